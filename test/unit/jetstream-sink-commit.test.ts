/**
 * The JetStream sink's commit (two-phase, FLIP-143 style): the records of a checkpoint epoch leave the
 * sink's pending state only once JetStream acknowledged them. A commit that fails keeps the epoch, so
 * the state of the next checkpoint (and the restore of the completed one) still holds it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { jetStreamSink } from "../../src/runtime/invokables/jetstream-sink.js";
import type { Invokable, TaskContext } from "../../src/runtime/api.js";

interface Epoch {
  id: string;
  checkpointId: number;
  records: unknown[];
}

/** The sink with its NATS side replaced: `publish` is the test's, the pending list state a plain array. */
function sinkWithPublish(publish: (subject: string, data: Uint8Array, opts?: { msgID: string }) => Promise<unknown>) {
  const sink = jetStreamSink.create({ subject: "out" }) as Invokable & Record<string, unknown>;
  const snapshots: Epoch[][] = [];
  sink.js = { publish };
  sink.pendingState = { update: (v: Epoch[]) => snapshots.push(v.map((e) => ({ ...e }))), get: () => [], clear: () => undefined };
  const ctx = { tdd: { attemptId: "a1" } } as unknown as TaskContext;
  return { sink, snapshots, ctx, receive: (records: unknown[]) => (sink.current as unknown[]).push(...records) };
}

test("a commit whose publish fails keeps the epoch pending: the next checkpoint's state holds it, and a later commit publishes it once", async () => {
  let failing = true;
  const published: string[] = [];
  const { sink, snapshots, ctx, receive } = sinkWithPublish(async (_s, _d, opts) => {
    if (failing) throw new Error("permissions violation"); // not transient: no retry
    published.push(opts!.msgID);
  });
  receive(["a", "b"]);
  sink.snapshotState!(ctx, 1);
  await assert.rejects(Promise.resolve(sink.notifyCheckpointComplete!(ctx, 1)), /permissions violation/);
  receive(["c"]);
  sink.snapshotState!(ctx, 2);
  assert.deepEqual(
    snapshots.at(-1)!.map((e) => [e.checkpointId, e.records]),
    [
      [1, ["a", "b"]],
      [2, ["c"]],
    ],
    "the failed epoch is still in checkpoint 2's state",
  );
  failing = false;
  await sink.notifyCheckpointComplete!(ctx, 2);
  assert.deepEqual(published, ["a1-1-0", "a1-1-1", "a1-2-0"], "each record once, in epoch order, with its de-duplication id");
  sink.snapshotState!(ctx, 3);
  assert.deepEqual(snapshots.at(-1), [], "nothing pending after the commit");
});

test("commits run one at a time: two completions in a row publish each epoch once", async () => {
  const published: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { sink, ctx, receive } = sinkWithPublish(async (_s, _d, opts) => {
    await gate;
    published.push(opts!.msgID);
  });
  receive(["a"]);
  sink.snapshotState!(ctx, 1);
  receive(["b"]);
  sink.snapshotState!(ctx, 2);
  const first = sink.notifyCheckpointComplete!(ctx, 1);
  const second = sink.notifyCheckpointComplete!(ctx, 2);
  release();
  await Promise.all([first, second]);
  assert.deepEqual(published, ["a1-1-0", "a1-2-0"]);
});
