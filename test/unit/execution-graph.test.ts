import { test } from "node:test";
import assert from "node:assert/strict";
import { ExecutionGraph } from "../../src/executiongraph/execution-graph.js";
import { slotSharingKeys } from "../../src/scheduler/slot-sharing.js";
import { computePipelinedRegions } from "../../src/scheduler/failover/pipelined-region.js";
import { graph } from "../helpers/graphs.js";

/** For every consumer subtask: the [producer partition, subpartition] pairs it reads. */
function reads(eg: ExecutionGraph, consumer: string): Array<Array<[number, number]>> {
  return eg.jobVertices
    .get(consumer)!
    .taskVertices.map((ev) =>
      ev.consumedPartitionGroups[0]!.partitions.map(
        (p, k) => [p.partitionIndex, ev.consumedPartitionGroups[0]!.subpartitionFor(ev.subtaskIndex, k)] as [number, number],
      ),
    );
}

test("one ExecutionVertex per subtask and one IntermediateResult per edge", () => {
  const eg = new ExecutionGraph(
    graph(
      [
        { id: "a", parallelism: 3 },
        { id: "b", parallelism: 5 },
      ],
      [{ source: "a", target: "b", partitioner: "hash" }],
    ),
  );
  assert.equal(eg.jobVertices.get("a")!.taskVertices.length, 3);
  assert.equal(eg.jobVertices.get("b")!.taskVertices.length, 5);
  assert.equal(eg.results.length, 1);
  assert.equal(eg.results[0]!.partitions.length, 3);
  assert.equal(eg.totalSubtasks, 8);
  eg.dispose();
});

test("ALL_TO_ALL: every consumer reads its own subpartition of every producer, through one shared group", () => {
  const eg = new ExecutionGraph(
    graph(
      [
        { id: "a", parallelism: 3 },
        { id: "b", parallelism: 4 },
      ],
      [{ source: "a", target: "b", partitioner: "rebalance" }],
    ),
  );
  const r = reads(eg, "b");
  for (let j = 0; j < 4; j++)
    assert.deepEqual(r[j], [
      [0, j],
      [1, j],
      [2, j],
    ]);
  for (const p of eg.results[0]!.partitions) assert.equal(p.numSubpartitions, 4);
  const groups = eg.jobVertices.get("b")!.taskVertices.map((ev) => ev.consumedPartitionGroups[0]);
  assert.ok(
    groups.every((g) => g === groups[0]),
    "the group object is shared, not materialized per consumer",
  );
  eg.dispose();
});

test("POINTWISE covers every producer subpartition exactly once, for fan-in and fan-out", () => {
  for (const [u, d] of [
    [4, 4],
    [6, 4],
    [4, 6],
    [7, 3],
    [3, 7],
    [1, 5],
    [5, 1],
  ] as const) {
    const eg = new ExecutionGraph(
      graph(
        [
          { id: "a", parallelism: u },
          { id: "b", parallelism: d },
        ],
        [{ source: "a", target: "b", partitioner: "rescale" }],
      ),
    );
    const seen = new Set<string>();
    for (const chans of reads(eg, "b")) {
      assert.ok(chans.length >= 1, `${u}->${d}: every consumer reads something`);
      for (const [p, sp] of chans) {
        const part = eg.results[0]!.partitions[p]!;
        assert.ok(sp >= 0 && sp < part.numSubpartitions, `${u}->${d}: subpartition in range`);
        const key = `${p}/${sp}`;
        assert.ok(!seen.has(key), `${u}->${d}: ${key} read twice`);
        seen.add(key);
      }
    }
    const total = eg.results[0]!.partitions.reduce((n, p) => n + p.numSubpartitions, 0);
    assert.equal(seen.size, total, `${u}->${d}: every subpartition is read`);
    eg.dispose();
  }
});

test("slot sharing: a pipelined region needs as many slots as its highest parallelism per group", () => {
  const eg = new ExecutionGraph(
    graph(
      [
        { id: "a", parallelism: 2 },
        { id: "b", parallelism: 4 },
        { id: "c", parallelism: 3, slotSharingGroup: "other" },
      ],
      [
        { source: "a", target: "b", partitioner: "hash" },
        { source: "b", target: "c", partitioner: "hash" },
      ],
    ),
  );
  const topology = computePipelinedRegions(eg);
  assert.equal(topology.regions.length, 1, "ALL_TO_ALL pipelined edges join everything into one region");
  const keys = slotSharingKeys(topology.regions[0]!);
  assert.equal(keys.size, 7);
  const slotOf = new Map<string, string>();
  for (const [k, evs] of keys) for (const ev of evs) slotOf.set(ev.id, k);
  assert.equal(slotOf.get("a#0"), slotOf.get("b#0"), "subtask 0 of a and b share a slot");
  assert.equal(slotOf.get("a#1"), slotOf.get("b#1"));
  assert.notEqual(slotOf.get("b#0"), slotOf.get("c#0"), "another slot sharing group gets its own slots");
  eg.dispose();
});

test("co-located subtasks share a slot even across a BLOCKING exchange", () => {
  const jg = graph(
    [
      { id: "head", parallelism: 3 },
      { id: "tail", parallelism: 3 },
    ],
    [{ source: "head", target: "tail", partitioner: "hash" }],
  );
  jg.edges[0]!.resultPartitionType = "BLOCKING";
  const separate = computePipelinedRegions(new ExecutionGraph(jg));
  assert.equal(separate.regions.length, 6, "without co-location a BLOCKING edge separates every subtask");
  for (const v of jg.vertices) v.coLocationGroup = "loop";
  const eg = new ExecutionGraph(jg);
  const topology = computePipelinedRegions(eg);
  for (let i = 0; i < 3; i++) {
    const head = eg.jobVertices.get("head")!.taskVertices[i]!;
    const tail = eg.jobVertices.get("tail")!.taskVertices[i]!;
    const region = topology.regionOf(head);
    assert.equal(topology.regionOf(tail), region, `head#${i} and tail#${i} in one region`);
    const keys = slotSharingKeys(region);
    assert.ok(
      [...keys.values()].some((members) => members.includes(head) && members.includes(tail)),
      `head#${i} and tail#${i} share one slot`,
    );
  }
  eg.dispose();
});
