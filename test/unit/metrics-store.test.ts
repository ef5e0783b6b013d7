import { test } from "node:test";
import assert from "node:assert/strict";
import { MetricStore } from "../../src/metrics/index.js";
import { taskEntry, teReport } from "../helpers/metric-reports.js";

const JOB = "a".repeat(32);
const SRC = "b".repeat(32);

/** A store on a clock the test moves. */
function storeAt(start = 1_000_000, opts = {}) {
  const clock = { now: start };
  return { store: new MetricStore(opts, () => clock.now), clock };
}

test("rates are derived from consecutive counters and the reports' timestamps", () => {
  const { store } = storeAt();
  store.ingestTaskExecutor(
    teReport("te_1", 10_000, [taskEntry(JOB, SRC, 0, { numRecordsOut: 100, numBytesOut: 1000, accumulatedBusyTime: 0, accumulatedIdleTime: 0 })]),
  );
  const first = store.subtasks(JOB, SRC)[0]!;
  assert.equal(first.values.numRecordsOut, 100);
  assert.equal(first.values.numRecordsOutPerSecond, 0, "no rate before a second report");
  store.ingestTaskExecutor(
    teReport("te_1", 12_000, [taskEntry(JOB, SRC, 0, { numRecordsOut: 700, numBytesOut: 5000, accumulatedBusyTime: 1500, accumulatedIdleTime: 400 })]),
  );
  const v = store.subtasks(JOB, SRC)[0]!.values;
  assert.equal(v.numRecordsOutPerSecond, 300);
  assert.equal(v.numBytesOutPerSecond, 2000);
  assert.equal(v.busyTimeMsPerSecond, 750);
  assert.equal(v.idleTimeMsPerSecond, 200);
});

test("a new attempt starts its rates afresh and a late report of the old one is ignored", () => {
  const { store } = storeAt();
  store.ingestTaskExecutor(teReport("te_1", 1_000, [taskEntry(JOB, SRC, 0, { numRecordsOut: 5000 })]));
  const next = { attempt: 1, attemptId: "c".repeat(32) };
  store.ingestTaskExecutor(teReport("te_2", 2_000, [taskEntry(JOB, SRC, 0, { numRecordsOut: 10 }, next)]));
  store.ingestTaskExecutor(teReport("te_1", 3_000, [taskEntry(JOB, SRC, 0, { numRecordsOut: 9000 })]));
  const [st] = store.subtasks(JOB, SRC);
  assert.equal(st!.attempt, 1);
  assert.equal(st!.taskExecutorId, "te_2");
  assert.equal(st!.values.numRecordsOut, 10);
  assert.equal(st!.values.numRecordsOutPerSecond, 0);
});

test("a vertex sums counters and rates, takes the max of times per second and the min of watermarks", () => {
  const { store } = storeAt();
  const at = (t: number, out: number[], busy: number[], wm: Array<number | undefined>) =>
    store.ingestTaskExecutor(
      teReport(
        "te_1",
        t,
        out.map((n, i) =>
          taskEntry(JOB, SRC, i, { numRecordsOut: n, accumulatedBusyTime: busy[i]!, ...(wm[i] !== undefined ? { currentInputWatermark: wm[i] } : {}) }),
        ),
      ),
    );
  at(1_000, [0, 0, 0], [0, 0, 0], [5, 7, undefined]);
  assert.equal(store.vertex(JOB, SRC).currentInputWatermark, undefined, "not every subtask has a watermark yet");
  at(2_000, [100, 200, 300], [100, 900, 500], [5, 7, 3]);
  const v = store.vertex(JOB, SRC);
  assert.equal(v.numRecordsOut, 600);
  assert.equal(v.numRecordsOutPerSecond, 600);
  assert.equal(v.busyTimeMsPerSecond, 900);
  assert.equal(v.currentInputWatermark, 3);
  assert.deepEqual(
    store.subtasks(JOB, SRC).map((s) => s.subtask),
    [0, 1, 2],
  );
});

test("a delta report keeps unchanged tasks with zero rates; a full report drops tasks no longer listed", () => {
  const { store } = storeAt();
  const a = (n: number) => taskEntry(JOB, SRC, 0, { numRecordsOut: n });
  const b = (n: number) => taskEntry(JOB, SRC, 1, { numRecordsOut: n });
  store.ingestTaskExecutor(teReport("te_1", 1_000, [a(0), b(0)], { full: true }));
  store.ingestTaskExecutor(teReport("te_1", 2_000, [a(50), b(80)]));
  assert.equal(store.vertex(JOB, SRC).numRecordsOutPerSecond, 130);
  // b unchanged: left out of the delta; its total stays, its rate is 0.
  store.ingestTaskExecutor(teReport("te_1", 3_000, [a(100)]));
  const [s0, s1] = store.subtasks(JOB, SRC);
  assert.equal(s0!.values.numRecordsOutPerSecond, 50);
  assert.equal(s1!.values.numRecordsOut, 80);
  assert.equal(s1!.values.numRecordsOutPerSecond, 0);
  // b moves again: its rate spans from the last report that covered it.
  store.ingestTaskExecutor(teReport("te_1", 4_000, [a(150), b(90)]));
  assert.equal(store.subtasks(JOB, SRC)[1]!.values.numRecordsOutPerSecond, 10);
  // A full report without b: b no longer runs there; a later delta without it does not touch it.
  store.ingestTaskExecutor(teReport("te_1", 5_000, [a(200)], { full: true }));
  store.ingestTaskExecutor(teReport("te_1", 6_000, [a(250)]));
  assert.equal(store.subtasks(JOB, SRC)[1]!.values.numRecordsOut, 90, "its last values stay with the job");
});

test("a new store fills up from a full report", () => {
  const { store } = storeAt();
  store.ingestTaskExecutor(teReport("te_1", 1_000, [taskEntry(JOB, SRC, 0, { numRecordsIn: 1 }), taskEntry(JOB, SRC, 1, { numRecordsIn: 2 })], { full: true }));
  assert.equal(store.vertex(JOB, SRC).numRecordsIn, 3);
  assert.equal(store.taskExecutor("te_1")["Status.Slots.Total"], 2);
  assert.equal(store.lastReport("te_1"), 1_000_000);
});

test("a terminal job is evicted after its retention, a silent TaskExecutor after 60 s", () => {
  const { store, clock } = storeAt(0, { jobRetentionMs: 10_000, taskExecutorSilenceMs: 60_000 });
  store.ingestTaskExecutor(teReport("te_1", 1_000, [taskEntry(JOB, SRC, 0, { numRecordsOut: 1 })]));
  store.ingestJob({ jobId: JOB, jobName: "j", state: "RUNNING", terminal: false, t: 1_000, values: { numRestarts: 0 } });
  assert.equal(store.cluster().numRunningJobs, 1);
  clock.now = 5_000;
  store.ingestJob({ jobId: JOB, jobName: "j", state: "FINISHED", terminal: true, t: 5_000, values: { numRestarts: 0 } });
  assert.equal(store.cluster().numRunningJobs, 0);
  clock.now = 14_000;
  store.tick();
  assert.equal(store.job(JOB).numRestarts, 0, "kept until the retention passed");
  clock.now = 15_001;
  store.tick();
  assert.deepEqual(store.job(JOB), {});
  assert.deepEqual(store.subtasks(JOB, SRC), []);
  assert.ok(store.lastReport("te_1") !== undefined);
  clock.now = 60_001;
  store.tick();
  assert.equal(store.lastReport("te_1"), undefined);
  assert.deepEqual(store.taskExecutor("te_1"), {});
});

test("a silent TaskExecutor's tasks stop counting in throughput; running vertices keep a history", () => {
  const { store, clock } = storeAt(0, { staleMs: 3_000, historyPoints: 3 });
  store.ingestTaskExecutor(teReport("te_1", 0, [taskEntry(JOB, SRC, 0, { numRecordsOut: 0 })]));
  store.ingestTaskExecutor(teReport("te_1", 1_000, [taskEntry(JOB, SRC, 0, { numRecordsOut: 100 })]));
  for (let i = 1; i <= 4; i++) {
    clock.now = i * 1_000;
    store.tick();
  }
  const h = store.throughput(JOB, SRC);
  assert.equal(h.length, 3, "the ring holds its capacity");
  assert.deepEqual(
    h.map((p) => p.t),
    [2_000, 3_000, 4_000],
  );
  assert.equal(h[0]!.recordsOutPerSecond, 100);
  assert.equal(h[2]!.recordsOutPerSecond, 0, "after 3 s of silence the rate reads 0");
});

test("a store moves while a job reports as running or a TaskExecutor's tasks are fresh, and stops once neither holds", () => {
  const { store, clock } = storeAt();
  assert.equal(store.moving, false, "an empty store");
  store.ingestTaskExecutor(teReport("te_1", 1_000, []));
  assert.equal(store.moving, false, "an idle TaskExecutor's report");
  store.ingestTaskExecutor(teReport("te_1", 2_000, [taskEntry(JOB, SRC, 0, { numRecordsOut: 1 })]));
  assert.equal(store.moving, true, "a task reported");
  clock.now += 4_000;
  store.tick();
  assert.equal(store.moving, false, "its TaskExecutor went silent: the tasks are stale");
  store.ingestJob({ jobId: JOB, jobName: "j", state: "RUNNING", terminal: false, t: 3_000, values: { numRestarts: 0 } });
  assert.equal(store.moving, true, "a running job's report");
  store.ingestJob({ jobId: JOB, jobName: "j", state: "FINISHED", terminal: true, t: 4_000, values: { numRestarts: 0 } });
  assert.equal(store.moving, false, "the job ended");
});
