import { test } from "node:test";
import assert from "node:assert/strict";
import { MetricIntake, MetricStore, encodeReport } from "../../src/metrics/index.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { silentLogger } from "../../src/core/logger.js";
import { encode } from "../../src/codec/index.js";
import { taskEntry, teReport } from "../helpers/metric-reports.js";

const JOB = "a".repeat(32);
const V = "b".repeat(32);
const subjects = new Subjects("eddy");

function intake() {
  const store = new MetricStore();
  return { store, intake: new MetricIntake(store, subjects, silentLogger()) };
}

test("encoded reports are ingested by the subject they arrive on", () => {
  const { store, intake: i } = intake();
  assert.ok(i.handle(subjects.metricsTaskExecutor("te_1"), encodeReport(teReport("te_1", 1, [taskEntry(JOB, V, 0, { numRecordsIn: 7 })]))));
  assert.ok(
    i.handle(subjects.metricsJob(JOB), encodeReport({ jobId: JOB, jobName: "j", state: "RUNNING", terminal: false, t: 1, values: { numRestarts: 2 } })),
  );
  assert.ok(i.handle(subjects.metricsCluster, encodeReport({ t: 1, values: { numRegisteredTaskManagers: 3 } })));
  assert.equal(store.vertex(JOB, V).numRecordsIn, 7);
  assert.equal(store.job(JOB).numRestarts, 2);
  assert.equal(store.cluster().numRegisteredTaskManagers, 3);
  assert.deepEqual(i.stats, { reports: 3, dropped: 0 });
});

test("malformed reports are dropped and counted and change nothing", () => {
  const { store, intake: i } = intake();
  const te = subjects.metricsTaskExecutor("te_1");
  const bad: Array<[string, Uint8Array]> = [
    [te, new Uint8Array([0xc1])],
    [te, new TextEncoder().encode("{not msgpack")],
    [te, encode({ teId: "te_1", t: -5, full: false, values: {}, tasks: [] })],
    [te, encode({ teId: "te_1", t: 1, full: false, values: { x: "1" }, tasks: [] })],
    [te, encode(teReport("te_1", 1, [{ ...taskEntry(JOB, V, 0, {}), values: ["many"] as never }]))],
    [te, encode(teReport("te_1", 1, [{ ...taskEntry(JOB, V, 0, {}), jobId: "a.b" }]))],
    [te, encode(teReport("te_2", 1, []))],
    [subjects.metricsJob(JOB), encode({ jobId: "c".repeat(32), jobName: "j", state: "RUNNING", terminal: false, t: 1, values: {} })],
    [subjects.metricsJob(JOB), encode(null)],
    [subjects.metricsCluster, encode([1, 2, 3])],
    ["eddy.metrics.other", encode({ t: 1, values: {} })],
  ];
  for (const [subject, data] of bad) assert.equal(i.handle(subject, data), false, subject);
  assert.deepEqual(i.stats, { reports: 0, dropped: bad.length });
  assert.equal(store.lastReport("te_1"), undefined);
  assert.equal(store.lastReport("te_2"), undefined);
  assert.deepEqual(store.subtasks(JOB, V), []);
  assert.deepEqual(store.job("c".repeat(32)), {});
  assert.deepEqual(store.cluster(), { numRunningJobs: 0 });
});
