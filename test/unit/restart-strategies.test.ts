import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createRestartStrategy,
  ExponentialDelayRestartStrategy,
  FailureRateRestartStrategy,
  FixedDelayRestartStrategy,
  NoRestartStrategy,
} from "../../src/scheduler/restart/index.js";

test("defaults are Flink's: none without checkpointing, exponential-delay 1 s .. 1 min x1.5 with it", () => {
  assert.ok(createRestartStrategy(undefined) instanceof NoRestartStrategy);
  const e = createRestartStrategy(undefined, true) as ExponentialDelayRestartStrategy;
  assert.ok(e instanceof ExponentialDelayRestartStrategy);
  assert.deepEqual([e.initialBackoffMs, e.maxBackoffMs, e.backoffMultiplier, e.jitterFactor, e.resetBackoffThresholdMs], [1_000, 60_000, 1.5, 0.1, 3_600_000]);
  const f = createRestartStrategy({ type: "fixed-delay" }) as FixedDelayRestartStrategy;
  assert.deepEqual([f.attempts, f.delayMs], [1, 1_000]);
  const r = createRestartStrategy({ type: "failure-rate" }) as FailureRateRestartStrategy;
  assert.deepEqual([r.maxFailuresPerInterval, r.intervalMs, r.delayMs], [1, 60_000, 1_000]);
});

test("fixed-delay allows exactly `attempts` restarts", () => {
  const s = new FixedDelayRestartStrategy({ attempts: 2, delayMs: 7 });
  const allowed = [1, 2, 3].map((t) => (s.notifyFailure(t), s.canRestart()));
  assert.deepEqual(allowed, [true, true, false]);
  assert.equal(s.getBackoffTime(), 7);
});

test("exponential-delay multiplies, caps, jitters within its factor and resets after a quiet period", () => {
  const s = new ExponentialDelayRestartStrategy({
    initialBackoffMs: 100,
    maxBackoffMs: 1_000,
    backoffMultiplier: 2,
    jitterFactor: 0,
    resetBackoffThresholdMs: 10_000,
  });
  const seen: number[] = [];
  for (const t of [0, 1, 2, 3, 4, 5]) {
    s.notifyFailure(t);
    seen.push(s.getBackoffTime());
  }
  assert.deepEqual(seen, [100, 200, 400, 800, 1_000, 1_000]);
  s.notifyFailure(5 + 10_000);
  assert.equal(s.getBackoffTime(), 100, "a failure after the reset threshold starts over");
  const j = new ExponentialDelayRestartStrategy({ initialBackoffMs: 1_000, jitterFactor: 0.1, random: () => 0 });
  j.notifyFailure(0);
  assert.equal(j.getBackoffTime(), 900, "jitter at its lower bound");
  const k = new ExponentialDelayRestartStrategy({ initialBackoffMs: 1_000, jitterFactor: 0.1, random: () => 0.999999 });
  k.notifyFailure(0);
  assert.equal(k.getBackoffTime(), 1_100, "jitter at its upper bound");
});

test("exponential-delay stops after attemptsBeforeResetBackoff restarts until the backoff resets", () => {
  const s = new ExponentialDelayRestartStrategy({ attemptsBeforeResetBackoff: 2, resetBackoffThresholdMs: 1_000 });
  const allowed = [0, 10, 20].map((t) => (s.notifyFailure(t), s.canRestart()));
  assert.deepEqual(allowed, [true, true, false]);
  s.notifyFailure(5_000);
  assert.ok(s.canRestart(), "after a quiet period the attempts count again from zero");
});

test("failure-rate counts only failures inside the sliding interval", () => {
  const s = new FailureRateRestartStrategy({ maxFailuresPerInterval: 2, intervalMs: 1_000, delayMs: 5 });
  const allowed = [0, 100, 200].map((t) => (s.notifyFailure(t), s.canRestart()));
  assert.deepEqual(allowed, [true, true, false]);
  const t = new FailureRateRestartStrategy({ maxFailuresPerInterval: 2, intervalMs: 1_000 });
  const spaced = [0, 600, 1_200, 1_800].map((x) => (t.notifyFailure(x), t.canRestart()));
  assert.deepEqual(spaced, [true, true, true, true], "old failures slide out of the interval");
});
