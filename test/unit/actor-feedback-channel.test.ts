import { test } from "node:test";
import assert from "node:assert/strict";
import { FeedbackChannel, feedbackChannel, releaseFeedbackChannel } from "../../src/runtime/actors/feedback-channel.js";
import type { Envelope } from "../../src/runtime/actors/types.js";
import { probeKeys, TerminationRounds } from "../../src/runtime/actors/termination-rounds.js";
import { operatorIndexForKey } from "../../src/state/key-groups.js";

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

test("termination rounds: two quiet-free rounds end it; any work in between asks for another round", () => {
  const a = new TerminationRounds(0, 2);
  const b = new TerminationRounds(1, 2);
  const deliver = (p: ReturnType<TerminationRounds["passive"]>) => {
    assert.ok(typeof p === "object", `a probe, got ${String(p)}`);
    a.onProbe(p);
    b.onProbe(p);
  };
  deliver(a.passive()); // round 1: never quiet
  assert.equal(a.passive(), "wait", "b's probe of round 1 is missing");
  deliver(b.passive());
  deliver(a.passive()); // round 2, quiet: a did nothing since round 1
  b.activity(); // b handled a message between its probes
  deliver(b.passive()); // round 2, not quiet
  const third = a.passive(); // not ended: b was not quiet in round 2, so a probes round 3 (quiet)
  assert.notEqual(third, "ended");
  deliver(third);
  deliver(b.passive()); // b's round 3 is quiet too
  assert.equal(a.passive(), "ended");
  assert.equal(b.passive(), "ended");
});

test("probe keys reach each subtask of the hash edge", () => {
  for (const [maxP, p] of [
    [128, 1],
    [128, 3],
    [256, 7],
  ] as const) {
    const keys = probeKeys(maxP, p);
    assert.equal(keys.length, p);
    keys.forEach((k, j) => assert.equal(operatorIndexForKey(k, maxP, p), j));
  }
});
