/**
 * Reactive mode and declared parallelism on a cluster of real processes: a keyed-counter job starts
 * on one TaskExecutor, grows as two more are started, shrinks when one is SIGKILLed, and its output
 * stays exactly once; then a rescale declared through `eddy rescale`.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { assertExactlyOnce, keyedCounterJob } from "../helpers/keyed-counter.js";
import { runEddy } from "../helpers/eddy-process.js";
import { ParallelismRecorder } from "../helpers/parallelism-recorder.js";
import type { ClusterInfo, JobDetails } from "../../schemas/dispatcher-api.js";

let cluster: ProcessCluster;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-reactive-"));
  cluster = await startProcessCluster({
    taskExecutors: 1,
    slots: 1,
    jobManagerArgs: ["--reactive"],
    logLevel: "info",
    env: { EDDY_ADAPTIVE_SCALING_INTERVAL_MS: "1000" },
  });
});
after(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const parallelismOf = (d: JobDetails) => d.vertices.map((v) => v.parallelism);
const runningAt = (p: number) => (d: JobDetails) => allRunning(d) && d.vertices.every((v) => v.parallelism === p);

test("reactive keyed-counter grows with each new TaskExecutor and shrinks when one is SIGKILLed; every event exactly once", async (t) => {
  // The three rescales and the kill take about 2,500 events of the source (restores replay from the
  // checkpoint), also with one core busy: 9,000 leaves the job running through them with over 3x to spare.
  const events = 9_000;
  const keys = 7;
  const out = join(work, "reactive-out");
  const spec = await keyedCounterJob({ events, keys, rate: 1_500, intervalMs: 200, output: out, parallelism: 1 });
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const timeline = new ParallelismRecorder(cluster.dispatcher, jobId).start();
  try {
    await waitForJob(cluster.dispatcher, jobId, (d) => runningAt(1)(d) && (d.checkpoints.latest?.id ?? 0) > 0, 30_000, "running at 1 with a checkpoint");
    await cluster.addTaskExecutor(1);
    await waitForJob(cluster.dispatcher, jobId, runningAt(2), 60_000, "rescaled up to 2");
    await cluster.addTaskExecutor(1);
    const three = await waitForJob(cluster.dispatcher, jobId, (d) => runningAt(3)(d) && (d.checkpoints.latest?.id ?? 0) > 0, 60_000, "rescaled up to 3");
    // SIGKILL a worker running a subtask: the job loses a slot and scales down to 2.
    const teId = three.vertices[0]!.subtasks[2]!.taskExecutor!;
    const info = await cluster.dispatcher.ask<ClusterInfo>("clusterInfo");
    const proc = cluster.taskExecutors.find((p) => p.pid === info.taskExecutors.find((t) => t.id === teId)?.pid);
    assert.ok(proc, "the worker is one of ours");
    proc.kill();
    await waitForJob(cluster.dispatcher, jobId, runningAt(2), 30_000, "scaled down to 2");
    const result = await awaitJobResult(cluster.dispatcher, jobId, 90_000);
    assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  } catch (err) {
    // What the processes said explains a rescale that did not happen (they log at info).
    t.diagnostic(`parallelism over time: ${timeline.describe()}`);
    for (const p of [cluster.jobManager, ...cluster.taskExecutors])
      t.diagnostic(`--- eddy ${p.args.join(" ")} (pid ${p.pid}), last lines:\n${p.stderr.split("\n").slice(-40).join("\n")}`);
    throw err;
  } finally {
    timeline.stop();
  }
  assertExactlyOnce(out, events, keys);
  const seen = timeline.parallelisms();
  assert.deepEqual(seen.slice(0, 4), [1, 2, 3, 2], `parallelism over time: ${timeline.describe()}`);
  console.log(`reactive keyed-counter parallelism over time: ${timeline.describe()}`);
});

test("a parallelism declared with eddy rescale is applied to the running job, output exactly once", async () => {
  // Two TaskExecutors of one slot remain from the previous test: the job runs at 2.
  // The job must still run when the rescale lands: it and the refused one take about 2,400 events of
  // the source, also with one core busy; 7,500 leaves over 3x to spare.
  const events = 7_500;
  const keys = 5;
  const out = join(work, "rescale-out");
  const spec = await keyedCounterJob({ events, keys, rate: 1_200, intervalMs: 200, output: out, parallelism: 1 });
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const d = await waitForJob(cluster.dispatcher, jobId, (x) => runningAt(2)(x) && (x.checkpoints.latest?.id ?? 0) > 0, 30_000, "running at 2");
  const counter = d.vertices[1]!;
  const vertexId = counter.id.split(" ")[0]!;
  const r = await runEddy(["rescale", jobId, "--vertex", vertexId, "--parallelism", "1"], {
    natsUrl: cluster.natsUrl,
    prefix: cluster.prefix,
    timeoutMs: 20_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /parallelism 1 declared/);
  const after = await waitForJob(cluster.dispatcher, jobId, (x) => allRunning(x) && x.vertices[1]!.parallelism === 1, 30_000, "the counter at 1");
  assert.deepEqual(parallelismOf(after), [2, 1], "the source keeps the slots' parallelism, the counter runs at the declared one");
  const bad = await runEddy(["rescale", jobId, "--vertex", "nope", "--parallelism", "1"], {
    natsUrl: cluster.natsUrl,
    prefix: cluster.prefix,
    timeoutMs: 20_000,
  });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr + bad.stdout, /VertexNotFound/);
  const result = await awaitJobResult(cluster.dispatcher, jobId, 60_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assertExactlyOnce(out, events, keys);
});
