/**
 * Deleting stream messages by sequence (src/jetstream/delete-messages.ts) over a recording stand-in
 * for the JetStream manager: oldest first whatever order the sequences come in, a message already
 * gone counted as not deleted (not a failure), a leader election retried, the first lasting failure
 * stops the run before any newer message is deleted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { JetStreamManager } from "@nats-io/jetstream";
import { JetStreamApiError } from "@nats-io/jetstream";
import { TimeoutError } from "@nats-io/transport-node";
import { deleteMessage, deleteMessages } from "../../src/jetstream/index.js";

/** A stream holding `present`; `failOnce` sequences time out once, `failAlways` fail for good. */
function fakeStream(present: number[], opts: { failOnce?: number[]; failAlways?: number[] } = {}) {
  const stored = new Set(present);
  const failOnce = new Set(opts.failOnce ?? []);
  const calls: number[] = [];
  const apiError = (description: string) => new JetStreamApiError({ code: 500, err_code: 10057, description });
  const jsm = {
    streams: {
      deleteMessage: async (_stream: string, seq: number) => {
        calls.push(seq);
        if (failOnce.delete(seq)) throw new TimeoutError();
        if (opts.failAlways?.includes(seq)) throw apiError("disk full");
        if (!stored.delete(seq)) throw apiError("no message found");
        return true;
      },
      getMessage: async (_stream: string, q: { seq: number }) => (stored.has(q.seq) ? { seq: q.seq } : null),
    },
  } as unknown as JetStreamManager;
  return { jsm, calls, stored };
}

test("messages are deleted one at a time, oldest first, whatever order the sequences come in", async () => {
  const s = fakeStream([3, 7, 9, 12]);
  assert.equal(await deleteMessages(s.jsm, "S", [12, 3, 9, 7]), 4);
  assert.deepEqual(s.calls, [3, 7, 9, 12]);
  assert.equal(s.stored.size, 0);
});

test("a message already gone is no failure and is not counted", async () => {
  const s = fakeStream([5]);
  assert.equal(await deleteMessage(s.jsm, "S", 4), false);
  assert.equal(await deleteMessages(s.jsm, "S", [4, 5]), 1);
});

test("a deletion that times out is retried; one that landed before its retry counts as gone", async () => {
  const s = fakeStream([1, 2], { failOnce: [1] });
  assert.equal(await deleteMessages(s.jsm, "S", [1, 2]), 2);
  assert.deepEqual(s.calls, [1, 1, 2]);
});

test("a lasting failure stops the run before any newer message is deleted", async () => {
  const s = fakeStream([1, 2, 3], { failAlways: [2] });
  await assert.rejects(deleteMessages(s.jsm, "S", [3, 2, 1]), /disk full/);
  assert.deepEqual(s.calls, [1, 2]);
  assert.deepEqual([...s.stored].sort(), [2, 3]);
});
