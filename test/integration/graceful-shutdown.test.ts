/**
 * SIGTERM of any Eddy process while a job runs: the process stops within a bound, and the job loses
 * nothing. A TaskExecutor says goodbye (its tasks fail over at once, without waiting for the
 * heartbeat timeout); the leading JobManager suspends its jobs and a standby takes them over from
 * their checkpoints.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterInfo, JobDetails } from "../../schemas/dispatcher-api.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { assertExactlyOnce, keyedCounterJob } from "../helpers/keyed-counter.js";

/** How long a SIGTERMed process may take to exit (its stop timeout is 10 s by default). */
const STOP_BOUND_MS = 15_000;
const work = mkdtempSync(join(tmpdir(), "eddy-sigterm-"));
let cluster: ProcessCluster | undefined;
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

const onWorker = (d: JobDetails, teId: string) => d.vertices.some((v) => v.subtasks.some((s) => s.taskExecutor === teId));

test("SIGTERM of a TaskExecutor and then of the leading JobManager mid-job: each exits in bound, the job finishes exactly once", async () => {
  const c = await startProcessCluster({ taskExecutors: 3, slots: 2, jobManagers: 2, env: { EDDY_LEASE_MS: "2000" } });
  cluster = c;
  const events = 24_000;
  const keys = 5;
  const out = join(work, "out");
  const { jobId } = await c.dispatcher.ask<{ jobId: string }>("submitJob", await keyedCounterJob({ events, keys, rate: 2_000, intervalMs: 200, output: out }));
  const running = await waitForJob(c.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed >= 1, 60_000, "running and checkpointed");

  // A TaskExecutor that runs a task of the job.
  const info = await c.dispatcher.ask<ClusterInfo>("clusterInfo");
  const te = info.taskExecutors.find((t) => onWorker(running, t.id))!;
  const teProc = c.taskExecutors.find((p) => p.pid === te.pid)!;
  teProc.signal("SIGTERM");
  const teExit = await teProc.waitForExit(STOP_BOUND_MS);
  assert.equal(teExit.code, 0, "the TaskExecutor stopped cleanly");
  await waitForJob(c.dispatcher, jobId, (d) => allRunning(d) && !onWorker(d, te.id), 30_000, "RUNNING without the stopped TaskExecutor");

  const leader = (await c.dispatcher.ask<ClusterInfo>("clusterInfo")).leaders.dispatcher!;
  const jmProc = c.jobManagers.find((p) => p.pid === leader.pid)!;
  jmProc.signal("SIGTERM");
  const jmExit = await jmProc.waitForExit(STOP_BOUND_MS);
  assert.equal(jmExit.code, 0, "the JobManager stopped cleanly");

  const result = await awaitJobResult(c.dispatcher, jobId, 120_000, { acrossFailover: true });
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assertExactlyOnce(out, events, keys);
  const after = await c.dispatcher.ask<ClusterInfo>("clusterInfo");
  assert.notEqual(after.leaders.dispatcher?.pid, leader.pid, "the standby leads");
});
