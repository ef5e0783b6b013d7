/**
 * The parts of a task's checkpointing on their own: which trigger a task holds and declines, how the
 * final checkpoint (FLIP-147) is chosen and waited for, and how a stop-with-savepoint holds the source.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CheckpointTriggerTracker } from "../../src/checkpoint/task/checkpoint-trigger-tracker.js";
import { FinalCheckpoint } from "../../src/checkpoint/task/final-checkpoint.js";
import { SynchronousSavepoint } from "../../src/checkpoint/task/synchronous-savepoint.js";
import type { CheckpointBarrier } from "../../src/runtime/api.js";
import { promiseState } from "../helpers/promise-state.js";

const barrier = (checkpointId: number): CheckpointBarrier => ({ checkpointId, timestamp: 0, kind: "CHECKPOINT" });

function tracker() {
  const declined: Array<[number, string, string]> = [];
  return { t: new CheckpointTriggerTracker((id, message, reason) => void declined.push([id, message, reason])), declined };
}

test("a newer trigger replaces the held one, which is declined; an older one is ignored", () => {
  const { t, declined } = tracker();
  t.hold(barrier(2), false);
  t.hold(barrier(1), true);
  assert.deepEqual(declined, []);
  t.hold(barrier(3), true);
  assert.deepEqual(declined, [[2, "superseded by a newer checkpoint", "CHECKPOINT_DECLINED_SUBSUMED"]]);
  assert.deepEqual(t.take(), { barrier: barrier(3), stop: true });
  assert.equal(t.take(), undefined, "a taken trigger is held no more");
});

test("an in-band barrier takes the held trigger of a task without source, not a source's", () => {
  const directly = tracker();
  directly.t.hold(barrier(4), false);
  directly.t.snapshotted(4, false);
  assert.equal(directly.t.take(), undefined);
  assert.ok(directly.t.taken(4) && directly.t.taken(3) && !directly.t.taken(5));
  assert.equal(directly.t.lastSnapshotId, 4);

  const source = tracker();
  source.t.hold(barrier(4), false);
  source.t.snapshotted(4, true);
  assert.deepEqual(source.t.take(), { barrier: barrier(4), stop: false });

  const newer = tracker();
  newer.t.hold(barrier(5), false);
  newer.t.snapshotted(4, false);
  assert.deepEqual(newer.t.take()?.barrier, barrier(5), "a newer trigger stays held");
  newer.t.snapshotted(3, false);
  assert.equal(newer.t.lastSnapshotId, 4, "the last snapshot never goes back");
});

test("an aborted checkpoint's trigger is dropped; a task that ends unfinished declines the one it holds", () => {
  const { t, declined } = tracker();
  t.hold(barrier(6), false);
  t.aborted(5);
  t.aborted(6);
  assert.equal(t.take(), undefined);
  t.hold(barrier(7), false);
  t.taskEnded(false);
  assert.deepEqual(declined, [[7, "the task ended", "CHECKPOINT_DECLINED_TASK_CLOSING"]]);

  const finished = tracker();
  finished.t.hold(barrier(8), false);
  finished.t.taskEnded(true);
  assert.deepEqual(finished.declined, [], "a finished task counts as finished in pending checkpoints");
  assert.equal(finished.t.take(), undefined);
});

function finalCheckpoint() {
  let asked = 0;
  const f = new FinalCheckpoint({ endOfInput: () => void asked++ });
  return { f, asked: () => asked };
}

test("at a clean end of input the last checkpoint is the final one: the task finishes once it was committed", async () => {
  const done = finalCheckpoint();
  done.f.completed(3);
  done.f.committed(3);
  assert.equal(done.f.reached(3, true), true, "committed already: finish at once");

  // A sink still publishing the last checkpoint's records when its input ends must not finish yet.
  const committing = finalCheckpoint();
  committing.f.completed(3);
  assert.equal(committing.f.reached(3, true), false, "completed, its commit still running");
  const later = committing.f.untilCommitted(new AbortController().signal);
  committing.f.askUnlessChosen();
  assert.equal(committing.asked(), 0, "the running commit is the final one's");
  committing.f.committed(3);
  assert.equal(await promiseState(later), "resolved");

  const { f, asked } = finalCheckpoint();
  assert.equal(f.reached(3, true), false);
  assert.equal(f.checkpointId, 3);
  const committed = f.untilCommitted(new AbortController().signal);
  f.askUnlessChosen();
  assert.equal(asked(), 0, "no new checkpoint is needed");
  f.completed(3);
  assert.equal(await promiseState(committed), "pending", "completed, but not committed yet");
  f.committed(3);
  assert.equal(await promiseState(committed), "resolved");
});

test("after records the task asks for a checkpoint, takes the next one as final, and asks again if it is aborted", async () => {
  const { f, asked } = finalCheckpoint();
  f.snapshotted(2); // before the end of input: not the final one
  assert.equal(f.reached(2, false), false);
  assert.equal(f.checkpointId, undefined);
  const committed = f.untilCommitted(new AbortController().signal);
  f.askUnlessChosen();
  assert.equal(asked(), 1);
  f.snapshotted(4);
  f.snapshotted(5);
  assert.equal(f.checkpointId, 4, "the first checkpoint taken at the end of input");
  f.aborted(5);
  assert.equal(asked(), 1, "another checkpoint's abort changes nothing");
  f.aborted(4);
  assert.equal(f.checkpointId, undefined);
  assert.equal(asked(), 2, "the final checkpoint failed: another is asked for");
  f.snapshotted(6);
  f.completed(6);
  f.committed(6);
  assert.equal(await promiseState(committed), "resolved");
  f.connectionRestored();
  assert.equal(asked(), 2, "nothing waits any more: nothing is asked");
});

test("the wait for the final checkpoint ends with the task, on its abort signal, and re-asks on reconnection", async () => {
  const { f, asked } = finalCheckpoint();
  f.reached(0, false);
  const ended = f.untilCommitted(new AbortController().signal);
  f.connectionRestored();
  assert.equal(asked(), 1, "the ask, trigger or completion may have been lost");
  f.taskEnded();
  await assert.rejects(ended, /the task ended/);

  const aborted = finalCheckpoint();
  aborted.f.reached(0, false);
  const ac = new AbortController();
  const waiting = aborted.f.untilCommitted(ac.signal);
  ac.abort(new Error("canceled"));
  await assert.rejects(waiting, /canceled/);
});

test("a stop-with-savepoint holds the source until its savepoint completed, or lets it go on", async () => {
  const s = new SynchronousSavepoint();
  const signal = new AbortController().signal;
  const completed = s.hold(5, signal);
  s.aborted(4);
  s.completed(4);
  assert.equal(await promiseState(completed), "pending", "another checkpoint changes nothing");
  s.completed(6);
  assert.equal(await completed, true, "a newer completion subsumes the savepoint");

  const aborted = s.hold(7, signal);
  s.aborted(7);
  assert.equal(await aborted, false);

  const ended = s.hold(8, signal);
  s.taskEnded();
  assert.equal(await ended, false);

  const ac = new AbortController();
  const canceled = s.hold(9, ac.signal);
  ac.abort();
  assert.equal(await canceled, false, "a cancel does not wait for the savepoint");
  assert.equal(await s.hold(10, ac.signal), false, "a canceled task does not wait at all");
});
