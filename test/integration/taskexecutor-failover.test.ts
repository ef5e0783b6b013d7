import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { awaitJobResult, waitForJob, allRunning } from "../helpers/jobs.js";
import type { ClusterInfo, JobDetails } from "../../schemas/dispatcher-api.js";

let cluster: ProcessCluster;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-failover-"));
  cluster = await startProcessCluster({ taskExecutors: 3, slots: 1 });
});
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** SIGKILLs the TaskExecutor process that runs `subtask` of vertex `vertexId`; returns its id. */
async function killTaskExecutorOf(d: JobDetails, vertexId: string, subtask: number): Promise<string> {
  const teId = d.vertices.find((v) => v.id === vertexId)!.subtasks[subtask]!.taskExecutor!;
  const info = await cluster.dispatcher.ask<ClusterInfo>("clusterInfo");
  const pid = info.taskExecutors.find((t) => t.id === teId)!.pid;
  const proc = cluster.taskExecutors.find((p) => p.pid === pid)!;
  proc.kill();
  await proc.waitForExit(10_000);
  return teId;
}

test("a TaskExecutor killed with SIGKILL mid-job: its tasks restart on the remaining workers and the output is correct", async () => {
  const n = 20_000;
  const out = join(work, "counts");
  const spec = {
    name: "survives a lost worker",
    vertices: [
      { id: "numbers", invokable: "source.sequence", parallelism: 2, config: { from: 0, to: n - 1, ratePerSecond: 8_000 } },
      { id: "words", invokable: "op.tokenize", parallelism: 2 },
      { id: "count", invokable: "op.keyedSum", parallelism: 2 },
      { id: "sink", invokable: "sink.textFile", parallelism: 2, config: { path: out } },
    ],
    edges: [
      { source: "numbers", target: "words", partitioner: "forward" },
      { source: "words", target: "count", partitioner: "hash", key: 0 },
      { source: "count", target: "sink", partitioner: "forward" },
    ],
    config: { restartStrategy: { type: "fixed-delay", attempts: 3, delayMs: 100 } },
  };
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const running = await waitForJob(cluster.dispatcher, jobId, allRunning, 20_000, "all subtasks RUNNING");
  const lost = await killTaskExecutorOf(running, "numbers", 0);
  const killedAt = Date.now();
  const again = await waitForJob(
    cluster.dispatcher,
    jobId,
    (d) => allRunning(d) && d.vertices.every((v) => v.subtasks.every((s) => s.attempt >= 1)),
    20_000,
    "RUNNING again after the restart",
  );
  const recoveryMs = Date.now() - killedAt;
  for (const v of again.vertices) for (const s of v.subtasks) assert.notEqual(s.taskExecutor, lost, "nothing runs on the dead worker");
  const result = await awaitJobResult(cluster.dispatcher, jobId, 60_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  const lines = readdirSync(out).flatMap((f) => readFileSync(join(out, f), "utf8").split("\n").filter(Boolean));
  assert.equal(lines.length, n, "one line per number");
  const seen = new Set(lines);
  for (let i = 0; i < n; i++) assert.ok(seen.has(`${i} 1`), `number ${i} counted exactly once`);
  const info = await cluster.dispatcher.ask<ClusterInfo>("clusterInfo");
  assert.ok(!info.taskExecutors.some((t) => t.id === lost), "the ResourceManager dropped the dead worker");
  console.log(`# recovery: SIGKILL to RUNNING again in ${recoveryMs} ms`);
});

test("region failover: killing the worker of one pipelined region restarts only that region", async () => {
  await cluster.addTaskExecutor(1); // replace the worker lost in the previous test
  const spec = {
    name: "two independent regions",
    vertices: [
      { id: "numbers", invokable: "source.sequence", parallelism: 2, config: { from: 1, to: 8_000, ratePerSecond: 4_000 } },
      { id: "sink", invokable: "sink.discard", parallelism: 2 },
    ],
    edges: [{ source: "numbers", target: "sink", partitioner: "forward" }],
    config: { restartStrategy: { type: "fixed-delay", attempts: 2, delayMs: 50 } },
  };
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const running = await waitForJob(cluster.dispatcher, jobId, allRunning, 20_000, "all subtasks RUNNING");
  await killTaskExecutorOf(running, "numbers", 0);
  const result = await awaitJobResult(cluster.dispatcher, jobId, 60_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  for (const v of d.vertices) {
    assert.equal(v.subtasks[0]!.attempt, 1, `${v.id}[0] restarted once`);
    assert.equal(v.subtasks[1]!.attempt, 0, `${v.id}[1] never restarted`);
  }
  const sinkRecords = Object.entries(result.accumulators).find(([k]) => k.endsWith("records"))?.[1];
  assert.equal(sinkRecords, 8_000, "the final attempts together saw every record once");
});
