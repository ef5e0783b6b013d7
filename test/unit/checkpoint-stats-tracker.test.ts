import { test } from "node:test";
import assert from "node:assert/strict";
import { CHECKPOINT_HISTORY_SIZE, CheckpointStatsTracker } from "../../src/checkpoint/index.js";
import type { CompletedCheckpoint } from "../../src/checkpoint/index.js";

test("a checkpoint's progress: pending, acknowledged subtasks, completion with its size and duration", () => {
  const t = new CheckpointStatsTracker({ intervalMs: 500 });
  t.reportPending(1, "CHECKPOINT", 1_000, 4, 1);
  t.reportAcknowledged(1, 1_010);
  let v = t.view(1_050);
  assert.deepEqual(v.counts, { restored: 0, total: 1, in_progress: 1, completed: 0, failed: 0 });
  assert.equal(v.history[0]!.num_acknowledged_subtasks, 2);
  assert.equal(v.history[0]!.latest_ack_timestamp, 1_010);
  assert.equal(v.history[0]!.end_to_end_duration, 50, "in progress: up to now");
  t.reportCompleted(1, 2048, 1_100);
  v = t.view(5_000);
  assert.deepEqual(v.counts, { restored: 0, total: 1, in_progress: 0, completed: 1, failed: 0 });
  assert.deepEqual(
    { ...v.latest.completed },
    { ...v.history[0], id: 1, status: "COMPLETED", state_size: 2048, end_to_end_duration: 100, num_acknowledged_subtasks: 4 },
  );
  assert.equal(v.config?.interval, 500);
  assert.equal(v.config?.timeout, 600_000, "defaults filled in");
});

test("failures, savepoints and restores land in their own latest entry; the history keeps the newest first", () => {
  const t = new CheckpointStatsTracker({ intervalMs: 100 });
  for (let id = 1; id <= CHECKPOINT_HISTORY_SIZE + 3; id++) {
    t.reportPending(id, id === 5 ? "SAVEPOINT" : "CHECKPOINT", id * 10, 2, 0);
    if (id === 7) t.reportFailed(id, "declined by a task", id * 10 + 5);
    else t.reportCompleted(id, 10, id * 10 + 3);
  }
  t.reportRestored({ checkpointId: 12, kind: "CHECKPOINT" } as CompletedCheckpoint, 999);
  const v = t.view();
  assert.equal(v.history.length, CHECKPOINT_HISTORY_SIZE);
  assert.deepEqual(
    v.history.map((c) => c.id),
    Array.from({ length: CHECKPOINT_HISTORY_SIZE }, (_, i) => CHECKPOINT_HISTORY_SIZE + 3 - i),
  );
  assert.equal(v.latest.savepoint?.id, 5);
  assert.equal(v.latest.failed?.id, 7);
  assert.equal(v.latest.failed?.failure_message, "declined by a task");
  assert.equal(v.latest.completed?.id, CHECKPOINT_HISTORY_SIZE + 3);
  assert.deepEqual(v.latest.restored, { id: 12, restore_timestamp: 999, is_savepoint: false });
  assert.deepEqual(v.counts, { restored: 1, total: CHECKPOINT_HISTORY_SIZE + 3, in_progress: 0, completed: CHECKPOINT_HISTORY_SIZE + 2, failed: 1 });
});

test("a job without checkpointing has no config and nothing recorded", () => {
  const v = new CheckpointStatsTracker(undefined).view();
  assert.equal(v.config, null);
  assert.deepEqual(v.history, []);
});
