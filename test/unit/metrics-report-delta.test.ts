import { test } from "node:test";
import assert from "node:assert/strict";
import { MetricStore, TASK_SILENCE_MS, TaskDelta } from "../../src/metrics/index.js";
import { taskEntry, teReport } from "../helpers/metric-reports.js";

const JOB = "a".repeat(32);
const V = "b".repeat(32);

test("a delta report carries only the tasks whose values changed; a full report carries all", () => {
  const d = new TaskDelta();
  d.update([taskEntry(JOB, V, 0, { numRecordsOut: 1 }), taskEntry(JOB, V, 1, { numRecordsOut: 1 })], 0);
  assert.deepEqual(
    d.take(false, 0).map((e) => e.subtask),
    [0, 1],
    "first seen: sent",
  );
  d.update([taskEntry(JOB, V, 0, { numRecordsOut: 2 }), taskEntry(JOB, V, 1, { numRecordsOut: 1 })], 1_000);
  assert.deepEqual(
    d.take(false, 1_000).map((e) => e.subtask),
    [0],
    "only the changed one",
  );
  assert.deepEqual(d.take(false, 1_500), [], "nothing changed");
  assert.deepEqual(
    d.take(true, 2_000).map((e) => e.subtask),
    [0, 1],
    "a full report resends everything",
  );
});

test("an ended attempt's last values go out once; a task whose slot thread went silent is dropped", () => {
  const d = new TaskDelta();
  d.update([taskEntry(JOB, V, 0, { numRecordsOut: 5 }), taskEntry(JOB, V, 1, { numRecordsOut: 5 })], 0);
  d.take(false, 0);
  d.update([taskEntry(JOB, V, 0, { numRecordsOut: 9 }, { final: true })], 500);
  const r = d.take(true, 1_000);
  assert.deepEqual(
    r.map((e) => [e.subtask, e.final ?? false]),
    [
      [0, true],
      [1, false],
    ],
  );
  assert.deepEqual(
    d.take(true, 1_500).map((e) => e.subtask),
    [1],
    "the ended attempt is not reported again",
  );
  assert.deepEqual(d.take(true, TASK_SILENCE_MS + 1), [], "not refreshed: its thread is gone");
  assert.equal(d.size, 0);
});

test("a store that starts between full reports fills up from the next full one", () => {
  const d = new TaskDelta();
  const late = new MetricStore();
  d.update([taskEntry(JOB, V, 0, { numRecordsOut: 1 }), taskEntry(JOB, V, 1, { numRecordsOut: 1 })], 0);
  d.take(true, 0); // published before the store existed
  d.update([taskEntry(JOB, V, 0, { numRecordsOut: 2 }), taskEntry(JOB, V, 1, { numRecordsOut: 1 })], 1_000);
  late.ingestTaskExecutor(teReport("te_1", 1_000, d.take(false, 1_000)));
  assert.equal(late.subtasks(JOB, V).length, 1, "the delta only knows the changed task");
  late.ingestTaskExecutor(teReport("te_1", 2_000, d.take(true, 2_000), { full: true }));
  assert.equal(late.subtasks(JOB, V).length, 2);
  assert.equal(late.vertex(JOB, V).numRecordsOut, 3);
});
