import { test } from "node:test";
import assert from "node:assert/strict";
import { jobReport, type JobMetricsSource } from "../../actors/jobmaster/job-metrics-reporter.js";
import { clusterReport } from "../../actors/resourcemanager/cluster-metrics.js";
import type { JobStatus } from "../../src/executiongraph/job-status.js";

/** A job's observable state as the reporter reads it. */
function source(state: JobStatus, timestamps: Partial<Record<JobStatus, number>>, extra: Partial<JobMetricsSource> = {}): JobMetricsSource {
  return {
    graph: { jobId: "a".repeat(32), jobName: "j", state, statusTimestamps: timestamps },
    scheduler: { numberOfRestarts: 2 },
    checkpointing: {
      coordinator: { stats: { completed: 4, failed: 1, latest: { id: 5, durationMs: 30, bytes: 900 } }, numberOfInProgressCheckpoints: 1 },
      lastRestoreTimestamp: 1_500,
    },
    ...extra,
  };
}

test("uptime counts from the latest RUNNING, runningTime from the first; both -1 before the job ran", () => {
  const before = jobReport(source("CREATED", {}), -1, 1_000);
  assert.equal(before.values.uptime, -1);
  assert.equal(before.values.runningTime, -1);
  // Restarted at 5,000 after first running at 2,000.
  const running = jobReport(source("RUNNING", { RUNNING: 5_000 }), 2_000, 9_000);
  assert.equal(running.values.uptime, 4_000);
  assert.equal(running.values.runningTime, 7_000);
  assert.equal(running.terminal, false);
  const restarting = jobReport(source("RESTARTING", { RUNNING: 5_000, RESTARTING: 8_000 }), 2_000, 9_000);
  assert.equal(restarting.values.uptime, -1, "not running");
  const done = jobReport(source("FINISHED", { RUNNING: 5_000, FINISHED: 12_000 }), 2_000, 60_000);
  assert.equal(done.terminal, true);
  assert.equal(done.values.runningTime, 10_000, "frozen at the terminal state");
});

test("a job report carries restarts and the checkpoint counters; a job without checkpoints reports -1 and 0", () => {
  const r = jobReport(source("RUNNING", { RUNNING: 1 }), 1, 2);
  assert.deepEqual(
    { ...r.values, uptime: undefined, runningTime: undefined },
    {
      numRestarts: 2,
      uptime: undefined,
      runningTime: undefined,
      lastCheckpointDuration: 30,
      lastCheckpointSize: 900,
      numberOfCompletedCheckpoints: 4,
      numberOfFailedCheckpoints: 1,
      numberOfInProgressCheckpoints: 1,
      lastCheckpointRestoreTimestamp: 1_500,
    },
  );
  const none = jobReport(source("RUNNING", { RUNNING: 1 }, { checkpointing: { coordinator: undefined, lastRestoreTimestamp: -1 } }), 1, 2);
  assert.equal(none.values.lastCheckpointDuration, -1);
  assert.equal(none.values.numberOfCompletedCheckpoints, 0);
  assert.equal(none.values.lastCheckpointRestoreTimestamp, -1);
});

test("the cluster report carries the registered TaskExecutors and their slots under Flink's names", () => {
  const r = clusterReport({ taskExecutors: 2, slots: 6, free: 5 }, 7);
  assert.deepEqual(r, { t: 7, values: { numRegisteredTaskManagers: 2, taskSlotsTotal: 6, taskSlotsAvailable: 5 } });
});
