/**
 * What a TaskExecutor holds while idle: slot threads start on demand and stop after
 * EDDY_SLOT_IDLE_MS, and its liveness rests on a marker NATS deletes when its connection is gone
 * (no fast polling). Neither may cost correctness: a slot whose thread stopped runs its next task,
 * and a dead TaskExecutor is still found long before the heartbeat timeout.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../src/core/time.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { awaitJobResult } from "../helpers/jobs.js";
import type { ClusterInfo } from "../../schemas/dispatcher-api.js";

let cluster: ProcessCluster;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-te-footprint-"));
  cluster = await startProcessCluster({ taskExecutors: 1, slots: 1, env: { EDDY_SLOT_IDLE_MS: "200" }, taskExecutorLogLevel: "debug" });
});
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Runs 0..n-1 into a text sink and returns the lines written. */
async function runNumbers(n: number, name: string): Promise<string[]> {
  const out = join(work, name);
  const spec = {
    name,
    vertices: [
      { id: "numbers", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: n - 1 } },
      { id: "sink", invokable: "sink.textFile", parallelism: 1, config: { path: out } },
    ],
    edges: [{ source: "numbers", target: "sink", partitioner: "forward" }],
  };
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const r = await awaitJobResult(cluster.dispatcher, jobId, 60_000);
  assert.equal(r.state, "FINISHED", JSON.stringify(r.failure));
  return readdirSync(out).flatMap((f) => readFileSync(join(out, f), "utf8").split("\n").filter(Boolean));
}

/** How many times the TaskExecutor has logged `msg` so far. */
function logged(msg: string): number {
  return cluster.taskExecutors[0]!.stderrLines.filter((l) => l.includes(`"msg":"${msg}"`)).length;
}

test("a task deployed to a slot whose thread stopped after idling starts a new thread and runs correctly", async () => {
  assert.equal(logged("slot worker starting"), 0, "an idle TaskExecutor starts no slot thread");
  const first = await runNumbers(500, "first");
  assert.equal(first.length, 500);
  await waitFor(() => (logged("slot worker idle: stopping it") >= 1 ? true : undefined), 30_000, "the idle slot thread stopping");
  const started = logged("slot worker starting");
  const second = await runNumbers(700, "second");
  assert.equal(second.length, 700, "one line per number");
  assert.deepEqual(new Set(second), new Set(Array.from({ length: 700 }, (_, i) => String(i))));
  assert.ok(logged("slot worker starting") > started, "the second job started a new thread");
});

test("a TaskExecutor killed with SIGKILL is found lost through its liveness marker, before any heartbeat timeout", async () => {
  const te = cluster.taskExecutors[0]!;
  const info = await cluster.dispatcher.ask<ClusterInfo>("clusterInfo");
  assert.equal(info.taskExecutors.length, 1);
  te.kill();
  await te.waitForExit(10_000);
  await waitFor(
    async () => ((await cluster.dispatcher.ask<ClusterInfo>("clusterInfo")).taskExecutors.length === 0 ? true : undefined),
    30_000,
    "the dead TaskExecutor unregistered",
    50,
  );
  // Not the heartbeat timeout, nor the periodic probe (the fallback for a TaskExecutor without a marker).
  assert.ok(
    cluster.jobManager.stderrLines.some((l) => l.includes("TaskExecutor lost") && l.includes("its liveness marker was deleted")),
    `lost through its marker; the JobManager said:\n${cluster.jobManager.stderr}`,
  );
});
