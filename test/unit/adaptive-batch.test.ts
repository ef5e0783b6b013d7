import { test } from "node:test";
import assert from "node:assert/strict";
import { ADAPTIVE_BATCH_DEFAULTS, decideParallelism, dynamicVerticesOf } from "../../src/scheduler/adaptivebatch/index.js";
import { validateJobGraph } from "../../src/jobgraph/validate.js";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";

test("adaptive batch defaults are Flink's: parallelism 1..128, 16 MiB per subtask", () => {
  assert.deepEqual({ ...ADAPTIVE_BATCH_DEFAULTS }, { minParallelism: 1, maxParallelism: 128, avgDataVolumePerTaskBytes: 16 * 1024 * 1024 });
});

test("the decided parallelism is ceil(bytes / bytes-per-subtask), within min, max and the vertex's max parallelism", () => {
  const cfg = { minParallelism: 2, maxParallelism: 10, avgDataVolumePerTaskBytes: 100 };
  assert.equal(decideParallelism(0, cfg, 128), 2);
  assert.equal(decideParallelism(450, cfg, 128), 5);
  assert.equal(decideParallelism(1_000_000, cfg, 128), 10);
  assert.equal(decideParallelism(1_000_000, cfg, 4), 4);
});

test("only vertices fed by ALL_TO_ALL BLOCKING exchanges (not broadcast) whose consumers are also decided late are dynamic", () => {
  const g = validateJobGraph(
    {
      name: "t",
      vertices: [
        { id: "src", invokable: "source.sequence", parallelism: 2, config: { from: 1, to: 10 } },
        { id: "a", invokable: "op.identity", parallelism: 2 },
        { id: "b", invokable: "op.identity", parallelism: 2 },
        { id: "c", invokable: "sink.discard", parallelism: 2 },
      ],
      edges: [
        { source: "src", target: "a", partitioner: "rebalance", resultPartitionType: "BLOCKING" },
        { source: "a", target: "b", partitioner: "broadcast", resultPartitionType: "BLOCKING" },
        { source: "b", target: "c", partitioner: "hash", resultPartitionType: "BLOCKING" },
      ],
    },
    builtinRegistry,
  );
  assert.deepEqual([...dynamicVerticesOf(g)].sort(), ["c"], "a feeds b through broadcast, so neither a nor b is decided late");
});

test("the scheduler is the job's choice, else reactive mode's adaptive, else the cluster's; BATCH jobs asking for adaptive get adaptive-batch", async () => {
  const { schedulerTypeOf } = await import("../../actors/jobmaster/scheduler-factory.js");
  const streaming = validateJobGraph(
    {
      name: "s",
      vertices: [
        { id: "src", invokable: "source.sequence", parallelism: 1, config: { from: 1, to: 2 } },
        { id: "out", invokable: "sink.discard", parallelism: 1 },
      ],
      edges: [{ source: "src", target: "out", partitioner: "rebalance" }],
    },
    builtinRegistry,
  );
  const batch = { ...streaming, edges: streaming.edges.map((e) => ({ ...e, resultPartitionType: "BLOCKING" as const })) };
  assert.equal(schedulerTypeOf(streaming), "default");
  assert.equal(schedulerTypeOf(streaming, { scheduler: "adaptive" }), "adaptive");
  assert.equal(schedulerTypeOf(streaming, { reactive: true }), "adaptive");
  assert.equal(
    schedulerTypeOf({ ...streaming, config: { ...streaming.config, scheduler: "default" } }, { reactive: true }),
    "default",
    "the job's setting wins",
  );
  assert.equal(schedulerTypeOf(batch, { scheduler: "adaptive" }), "adaptive-batch");
  assert.equal(schedulerTypeOf(batch), "default");
});
