import { test } from "node:test";
import assert from "node:assert/strict";
import { FeedbackChannel, feedbackChannel, releaseFeedbackChannel } from "../../src/runtime/actors/feedback-channel.js";
import type { Envelope } from "../../src/runtime/actors/types.js";

const env = (n: number): Envelope => ({ to: { type: "a", id: String(n) }, from: null, body: n });
const bodies = (xs: Envelope[]) => xs.map((e) => e.body);

test("a checkpoint's in-flight messages: those taken after the actors' snapshot plus those still waiting when the barrier is aligned", () => {
  const ch = new FeedbackChannel(0);
  ch.push(env(1));
  ch.push(env(2));
  ch.take(); // 1: taken before the snapshot, so its effect is in the actors' state
  ch.startLog(7);
  ch.take(); // 2: taken after it
  ch.push({ probe: 1, from: 0, quiet: false });
  ch.push(env(3)); // still waiting at the barrier
  assert.deepEqual(bodies(ch.endLog(7)), [2, 3], "probes are never checkpointed");
  assert.equal(ch.waiting, 1);
  ch.startLog(8);
  assert.ok("probe" in ch.take()!);
  ch.take(); // 3
  ch.dropLog(8); // checkpoint 8 given up: nothing of it is kept
  assert.deepEqual(bodies(ch.endLog(8)), []);
});

test("logs of several checkpoints at once; aligning one ends it and the older ones", () => {
  const ch = new FeedbackChannel(0);
  ch.startLog(1);
  ch.push(env(1));
  ch.take();
  ch.startLog(2);
  ch.push(env(2));
  ch.take();
  assert.deepEqual(bodies(ch.endLog(2)), [2]);
  assert.deepEqual(bodies(ch.endLog(1)), [], "checkpoint 1's log ended with 2's");
});

test("the channel of a subtask is shared by its two tasks of one attempt; a newer attempt gets a fresh one", () => {
  const a = feedbackChannel("job", "g", 0, 0);
  assert.equal(feedbackChannel("job", "g", 0, 0), a);
  assert.notEqual(feedbackChannel("job", "g", 1, 0), a);
  a.push(env(1));
  const b = feedbackChannel("job", "g", 0, 1);
  assert.notEqual(b, a);
  assert.equal(b.length, 0);
  assert.equal(feedbackChannel("job", "g", 0, 0), b, "an older attempt does not replace a newer one");
  releaseFeedbackChannel("job", "g", 0, a); // not the current one: no effect
  assert.equal(feedbackChannel("job", "g", 0, 1), b);
  releaseFeedbackChannel("job", "g", 0, b);
  assert.notEqual(feedbackChannel("job", "g", 0, 1), b);
});
