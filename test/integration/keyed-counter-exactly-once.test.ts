import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadJob } from "../../src/sdk/load-job.js";
import { packageRoot } from "../../src/cluster/paths.js";
import { killTaskExecutor, startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { unpackData } from "../../src/codec/codec.js";
import { assertExactlyOnce } from "../helpers/keyed-counter.js";
import { streamPayloads } from "../helpers/stream-messages.js";

let cluster: ProcessCluster;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-kc-"));
  cluster = await startProcessCluster({ taskExecutors: 3, slots: 2 });
});
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** SIGKILLs the worker running the job's sink (subtask 0). */
async function killOneWorkerOf(jobId: string): Promise<void> {
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  await killTaskExecutor(cluster, d.vertices[d.vertices.length - 1]!.subtasks[0]!.taskExecutor!);
}

test("keyed-counter with TaskExecutors SIGKILLed three times commits every event exactly once, counts 1..n per key", async () => {
  // The three rounds take under 4,500 events of the source (also with one core busy): 14,000 at
  // 3,000/s keep the job running through them with over 3x to spare.
  const events = 14_000;
  const keys = 7;
  const out = join(work, "out");
  const spec = await loadJob(
    join(packageRoot(), "examples/keyed-counter.ts"),
    ["--events", String(events), "--keys", String(keys), "--rate", "3000", "--checkpoint-interval", "200", "--output", out],
    { parallelism: 2 },
  );
  spec.config = { ...spec.config, restartStrategy: { type: "fixed-delay", attempts: 20, delayMs: 100 } };
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  for (let round = 1; round <= 3; round++) {
    // Running, with a checkpoint completed since the last restart: committed output exists to protect.
    const before = await waitForJob(cluster.dispatcher, jobId, (d) => allRunning(d) && (d.checkpoints.latest?.id ?? 0) > 0, 30_000, "running and checkpointed");
    const seen = before.checkpoints.completed;
    await waitForJob(cluster.dispatcher, jobId, (d) => d.checkpoints.completed > seen, 30_000, "another checkpoint");
    await killOneWorkerOf(jobId);
    // A replacement starts while the job restarts (on whichever TaskExecutors have free slots): the
    // next round begins with three again.
    await Promise.all([
      waitForJob(
        cluster.dispatcher,
        jobId,
        (d) => allRunning(d) && d.vertices.every((v) => v.subtasks.every((s) => s.attempt >= round)),
        30_000,
        `restart ${round}`,
      ),
      cluster.addTaskExecutor(2),
    ]);
  }
  const result = await awaitJobResult(cluster.dispatcher, jobId, 90_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assertExactlyOnce(out, events, keys);
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  assert.ok(d.checkpoints.completed >= 3, `checkpoints completed: ${d.checkpoints.completed}`);
});

test("the JetStream sink publishes every event exactly once through a SIGKILLed TaskExecutor (de-duplication ids)", async () => {
  const events = 9_000;
  const keys = 5;
  const stream = `KC_${Date.now()}`;
  const subject = `${cluster.prefix}.out.${stream}`;
  // The operator makes the sink's stream: a worker of a secured cluster may create none.
  await (await jetstreamManager(cluster.nc)).streams.add({ name: stream, subjects: [subject] });
  const spec = {
    name: "keyed-counter to JetStream",
    vertices: [
      { id: "events", invokable: "source.keyedEvents", parallelism: 2, config: { events, keys, ratePerSecond: 3000 } },
      { id: "count", invokable: "op.countPerKey", parallelism: 2 },
      { id: "out", invokable: "sink.jetstream", parallelism: 2, config: { subject, stream } },
    ],
    edges: [
      { source: "events", target: "count", partitioner: "hash", key: 0 },
      { source: "count", target: "out", partitioner: "forward" },
    ],
    config: { checkpointing: { intervalMs: 200 }, restartStrategy: { type: "fixed-delay", attempts: 10, delayMs: 100 } },
  };
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const running = await waitForJob(cluster.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed > 1, 30_000, "running and checkpointed");
  assert.ok(running);
  await killOneWorkerOf(jobId);
  await waitForJob(cluster.dispatcher, jobId, (d) => allRunning(d) && d.vertices.every((v) => v.subtasks.every((s) => s.attempt >= 1)), 30_000, "restarted");
  await cluster.addTaskExecutor(2);
  const result = await awaitJobResult(cluster.dispatcher, jobId, 90_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  const jsm = await jetstreamManager(cluster.nc);
  const info = await jsm.streams.info(stream);
  assert.equal(info.state.messages, events, "one message per event in the stream");
  const seen = new Set<string>();
  for (const data of await streamPayloads(cluster.nc, stream)) {
    const [key, i, count] = unpackData(data) as [string, number, number];
    assert.equal(key, `k${i % keys}`);
    assert.equal(count, Math.floor(i / keys) + 1);
    seen.add(`${i}`);
  }
  assert.equal(seen.size, events, "every event once");
  await jsm.streams.delete(stream);
});
