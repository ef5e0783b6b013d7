/**
 * Checkpoints after tasks finished (Flink's FLIP-147): a two-phase-commit sink commits its last records
 * with a final checkpoint before it finishes, checkpoints go on while some tasks are finished, and a
 * full failover does not run operators again that had finished.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killTaskExecutor, startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { committedLines } from "../helpers/keyed-counter.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";
import { listKeys, openBucket } from "../../src/ha/kv.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { encode } from "../../src/codec/codec.js";
import { waitFor } from "../../src/core/time.js";

let cluster: ProcessCluster;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-final-"));
  // One slot per worker, and the two branches in different slot sharing groups: they run on different workers.
  // The leader sweeps the checkpoint keys of ended jobs every second (a minute by default).
  cluster = await startProcessCluster({ taskExecutors: 3, slots: 1, env: { EDDY_SWEEP_INTERVAL_MS: "1000" } });
});
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

const vertex = (d: JobDetails, id: string) => d.vertices.find((v) => v.id === id)!;
const range = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

test("a sink that finished while another branch runs is not run again by a full failover: every record committed exactly once", async () => {
  const outA = join(work, "a");
  const outB = join(work, "b");
  const bEvents = 4000;
  const spec = {
    name: "two branches, one finishes early",
    vertices: [
      { id: "srcA", invokable: "source.sequence", parallelism: 1, config: { from: 1, to: 1000 } },
      { id: "sinkA", invokable: "sink.textFile", parallelism: 1, config: { path: outA } },
      // Branch A's source does not checkpoint its position: running it again would repeat all of it.
      // Branch B's does: it rewinds to the checkpoint on the failover.
      { id: "srcB", invokable: "source.keyedEvents", parallelism: 1, slotSharingGroup: "b", config: { events: bEvents, keys: 4, ratePerSecond: 1000 } },
      { id: "sinkB", invokable: "sink.textFile", parallelism: 1, slotSharingGroup: "b", config: { path: outB } },
    ],
    edges: [
      { source: "srcA", target: "sinkA", partitioner: "rebalance" },
      { source: "srcB", target: "sinkB", partitioner: "rebalance" },
    ],
    config: {
      checkpointing: { intervalMs: 200 },
      failoverStrategy: "full",
      restartStrategy: { type: "fixed-delay", attempts: 5, delayMs: 100 },
    },
  };
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  // Branch A finishes (its sink after its final checkpoint committed everything), branch B runs on,
  // and checkpoints go on: one completes with A's tasks finished.
  const aDone = await waitForJob(
    cluster.dispatcher,
    jobId,
    (d) => vertex(d, "sinkA").subtasks[0]!.state === "FINISHED" && vertex(d, "srcB").subtasks[0]!.state === "RUNNING",
    30_000,
    "branch A finished, B running",
  );
  assert.deepEqual(committedLines(outA).sort(), range(1000).sort(), "the finished sink committed all of its input");
  const seen = aDone.checkpoints.completed;
  const later = await waitForJob(cluster.dispatcher, jobId, (d) => d.checkpoints.completed >= seen + 2, 15_000, "checkpoints after A finished");
  assert.equal(vertex(later, "srcB").subtasks[0]!.state, "RUNNING", "B still runs: the test kills it mid-way");
  // SIGKILL of the worker running branch B: the full failover restarts every task, A's included.
  await killTaskExecutor(cluster, vertex(later, "srcB").subtasks[0]!.taskExecutor!);
  await waitForJob(cluster.dispatcher, jobId, (d) => d.vertices.every((v) => v.subtasks.every((s) => s.attempt >= 1)), 30_000, "full failover");
  const result = await awaitJobResult(cluster.dispatcher, jobId, 60_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  const a = committedLines(outA);
  assert.equal(a.length, 1000, "branch A's output exactly once: its finished operators were not run again");
  assert.deepEqual(a.sort(), range(1000).sort());
  const b = committedLines(outB);
  assert.equal(b.length, bEvents, "branch B's output exactly once through the failover");
  assert.deepEqual(b.sort(), Array.from({ length: bEvents }, (_, i) => `k${i % 4} ${i}`).sort());
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  assert.ok(
    d.vertices.every((v) => v.subtasks.every((s) => s.attempt >= 1 && s.state === "FINISHED")),
    "every task restarted (full failover) and finished",
  );
});

test("a bounded checkpointed job commits its sink's last records with a final checkpoint, finishes promptly, and keys written after its end are swept", async () => {
  const out = join(work, "bounded");
  const spec = {
    name: "bounded with checkpoints",
    vertices: [
      { id: "src", invokable: "source.sequence", parallelism: 2, config: { from: 1, to: 20_000 } },
      { id: "sink", invokable: "sink.textFile", parallelism: 2, config: { path: out } },
    ],
    edges: [{ source: "src", target: "sink", partitioner: "rebalance" }],
    // An interval far longer than the job: only the final checkpoint, triggered at the end of input, lets the sinks finish.
    config: { checkpointing: { intervalMs: 3_600_000 } },
  };
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  // Far less than the interval: the final checkpoint was triggered at the end of input.
  const result = await awaitJobResult(cluster.dispatcher, jobId, 30_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  assert.ok(d.checkpoints.completed >= 1, "a final checkpoint completed");
  const lines = committedLines(out);
  assert.equal(lines.length, 20_000);
  assert.equal(new Set(lines).size, 20_000);

  // Keys a JobMaster of a former leader writes after the job's end are swept by the leader; a job
  // without a recorded result keeps its keys.
  const kv = await openBucket(cluster.nc, new Subjects(cluster.prefix).bucket("checkpoints"));
  const keysOf = async (jobId: string) => (await listKeys(kv, `${jobId}.>`)).sort();
  await waitFor(async () => ((await keysOf(jobId)).length === 0 ? true : undefined), 30_000, "the job's checkpoint keys removed at its end");
  const late = [`${jobId}.chk.9`, `${jobId}.counter`, `${jobId}.latest`];
  for (const k of [...late, "jobWithoutResult.counter"]) await kv.put(k, encode(9));
  assert.deepEqual(await keysOf(jobId), late);
  await waitFor(async () => ((await keysOf(jobId)).length === 0 ? true : undefined), 30_000, "the late keys swept");
  assert.deepEqual(await keysOf("jobWithoutResult"), ["jobWithoutResult.counter"]);
});

test("a source chained with a two-phase-commit sink checkpoints through the chain and commits its last records with the final checkpoint", async () => {
  const out = join(work, "chained");
  const spec = {
    name: "source chained with sink",
    vertices: [
      { id: "src", invokable: "source.keyedEvents", parallelism: 2, config: { events: 20_000, keys: 3, ratePerSecond: 20_000 } },
      { id: "sink", invokable: "sink.textFile", parallelism: 2, config: { path: out } },
    ],
    edges: [{ source: "src", target: "sink", partitioner: "forward" }],
    config: { checkpointing: { intervalMs: 100 } },
  };
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const result = await awaitJobResult(cluster.dispatcher, jobId, 30_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  assert.deepEqual(
    d.vertices.map((v) => v.name),
    ["src -> sink"],
    "one chained task",
  );
  assert.ok(d.checkpoints.completed >= 2, `checkpoints while running and the final one: ${d.checkpoints.completed}`);
  const lines = committedLines(out);
  assert.equal(lines.length, 20_000);
  assert.deepEqual(lines.sort(), Array.from({ length: 20_000 }, (_, i) => `k${i % 3} ${i}`).sort());
});
