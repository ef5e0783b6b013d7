import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startInProcessCluster, type InProcessCluster } from "../helpers/in-process-cluster.js";
import { awaitJobResult } from "../helpers/jobs.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";

/** A job whose source always fails (its file does not exist), under the given restart strategy. */
function failingJob(restartStrategy: Record<string, unknown> | undefined) {
  return {
    name: "always fails",
    vertices: [
      { id: "src", invokable: "source.textFile", parallelism: 1, config: { path: "/nonexistent/eddy/input.txt" } },
      { id: "sink", invokable: "sink.discard", parallelism: 1 },
    ],
    edges: [{ source: "src", target: "sink", partitioner: "forward" }],
    config: restartStrategy ? { restartStrategy } : {},
  };
}

let cluster: InProcessCluster;
before(async () => {
  cluster = await startInProcessCluster({ taskExecutors: 1, slots: 2 });
});
after(async () => {
  await cluster?.stop();
});

/** Runs the failing job; returns its end state, the last attempt number and how long it took. */
async function run(restartStrategy: Record<string, unknown> | undefined) {
  const t0 = Date.now();
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", failingJob(restartStrategy));
  const result = await awaitJobResult(cluster.dispatcher, jobId, 30_000);
  const elapsed = Date.now() - t0;
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  return { result, elapsed, attempt: d.vertices[0]!.subtasks[0]!.attempt, details: d };
}

test("without a restart strategy the first failure fails the job with its root cause", async () => {
  const r = await run(undefined);
  assert.equal(r.result.state, "FAILED");
  assert.equal(r.attempt, 0);
  assert.match(r.result.failure!.message, /nonexistent\/eddy\/input\.txt/);
  assert.match(r.result.failure!.message, /restart strategy none/);
});

test("fixed-delay restarts `attempts` times, each after the delay, then fails", async () => {
  const r = await run({ type: "fixed-delay", attempts: 2, delayMs: 300 });
  assert.equal(r.result.state, "FAILED");
  assert.equal(r.attempt, 2, "two restarts: attempts 0, 1, 2");
  assert.ok(r.elapsed >= 600, `two delays of 300 ms passed (took ${r.elapsed} ms)`);
  assert.match(r.result.failure!.message, /fixed-delay .* allows no more restarts/);
  assert.match(r.result.failure!.message, /nonexistent/);
});

test("exponential-delay grows the backoff by its multiplier up to the maximum, and stops after attemptsBeforeResetBackoff", async () => {
  const r = await run({
    type: "exponential-delay",
    initialBackoffMs: 100,
    backoffMultiplier: 10,
    maxBackoffMs: 300,
    jitterFactor: 0,
    attemptsBeforeResetBackoff: 3,
  });
  assert.equal(r.result.state, "FAILED");
  assert.equal(r.attempt, 3);
  // backoffs 100, 300 (1000 capped), 300 (10000 capped): 700 ms; without the cap it would be 11.1 s
  assert.ok(r.elapsed >= 700, `backoffs 100 + 300 + 300 ms passed (took ${r.elapsed} ms)`);
  assert.ok(r.elapsed < 6_000, `the cap holds (took ${r.elapsed} ms)`);
});

test("failure-rate restarts while failures per interval stay within the limit", async () => {
  const r = await run({ type: "failure-rate", maxFailuresPerInterval: 2, intervalMs: 60_000, delayMs: 50 });
  assert.equal(r.result.state, "FAILED");
  assert.equal(r.attempt, 2, "the third failure in the interval is one too many");
  assert.match(r.result.failure!.message, /failure-rate/);
});

function twoRegions(failoverStrategy?: "full" | "region") {
  return {
    name: "two regions",
    vertices: [
      { id: "ok", invokable: "source.sequence", parallelism: 1, config: { from: 1, to: 1000 } },
      { id: "okSink", invokable: "sink.discard", parallelism: 1 },
      { id: "bad", invokable: "source.textFile", parallelism: 1, config: { path: "/nonexistent/eddy/other.txt" } },
      { id: "badSink", invokable: "sink.discard", parallelism: 1 },
    ],
    edges: [
      { source: "ok", target: "okSink", partitioner: "forward" },
      { source: "bad", target: "badSink", partitioner: "forward" },
    ],
    config: { restartStrategy: { type: "fixed-delay", attempts: 1, delayMs: 10 }, ...(failoverStrategy ? { failoverStrategy } : {}) },
  };
}

test("full failover restarts every task, and the job passes through RESTARTING", async () => {
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", twoRegions("full"));
  const result = await awaitJobResult(cluster.dispatcher, jobId, 30_000);
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  assert.equal(result.state, "FAILED");
  for (const v of d.vertices) assert.equal(v.subtasks[0]!.attempt, 1, `${v.id} restarted once`);
  assert.ok(d.timestamps.RESTARTING, "the job was RESTARTING");
});

test("region failover restarts only the failed region; the healthy region keeps its first attempt", async () => {
  // One source fails (missing file) while the other pipeline runs: region failover restarts only the failed region.
  const spec = twoRegions();
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const result = await awaitJobResult(cluster.dispatcher, jobId, 30_000);
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  const attempt = (id: string) => d.vertices.find((v) => v.id === id || v.id.startsWith(id))!.subtasks[0]!.attempt;
  assert.equal(result.state, "FAILED");
  assert.equal(attempt("bad"), 1, "the failing region restarted once");
  assert.equal(attempt("ok"), 0, "the healthy region never restarted");
});
