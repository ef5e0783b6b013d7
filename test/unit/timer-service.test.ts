/**
 * The timer service (src/runtime/streaming/timer-service.ts): event-time timers fire in time order
 * when the watermark reaches them, once per (key, namespace, time); deleted ones never fire;
 * processing-time timers fire by the clock and stop with close(); and timers live in keyed state, so a
 * snapshot restores them — into one subtask or split by key group over several (rescale) — except those
 * only queued in memory, which no snapshot holds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "../../src/core/time.js";
import { HeapKeyedStateBackend, keyGroupRange, keyGroupFor } from "../../src/state/index.js";
import { InternalTimerService, type Namespace } from "../../src/runtime/streaming/timer-service.js";

const MAXP = 128;

function backend(p = 1, i = 0): HeapKeyedStateBackend {
  return new HeapKeyedStateBackend({ maxParallelism: MAXP, keyGroupRange: keyGroupRange(MAXP, p, i) });
}

/** A service that logs `<domain> <key> <ns> <ts>` for every fired timer. */
function service(b: HeapKeyedStateBackend, log: string[]): InternalTimerService {
  return new InternalTimerService(b, {
    onEventTime: (ts: number, ns: Namespace) => void log.push(`E ${String(b.getCurrentKey())} ${ns} ${ts}`),
    onProcessingTime: (ts: number, ns: Namespace) => void log.push(`P ${String(b.getCurrentKey())} ${ns} ${ts}`),
  });
}

test("event-time timers fire in time order once the watermark reaches them, once each; deleted ones never", () => {
  const b = backend();
  const log: string[] = [];
  const s = service(b, log);
  for (const [key, ts] of [
    ["a", 30],
    ["b", 10],
    ["a", 20],
    ["c", 20],
    ["a", 30],
  ] as const) {
    b.setCurrentKey(key);
    s.registerEventTimeTimer(0, ts);
  }
  b.setCurrentKey("c");
  s.deleteEventTimeTimer(0, 20);
  s.advanceWatermark(15);
  assert.deepEqual(log, ["E b 0 10"]);
  s.advanceWatermark(5); // watermarks never go back
  assert.equal(s.currentWatermark(), 15);
  s.advanceWatermark(30);
  assert.deepEqual(log, ["E b 0 10", "E a 0 20", "E a 0 30"]);
  s.advanceWatermark(1000);
  assert.equal(log.length, 3, "nothing fires twice; the deleted timer never fires");
});

test("many keys and windows: each (key, namespace, time) fires once; a number and a string namespace stay apart", () => {
  const b = backend();
  const log: string[] = [];
  const s = service(b, log);
  // More distinct (time, namespace) pairs than the service remembers ids of, registered twice each by
  // 20 keys, in an order that revisits old pairs; namespace 7 and "7" are different timers.
  const want: string[] = [];
  for (let round = 0; round < 2; round++) {
    for (let w = 0; w < 12; w++) {
      for (let k = 0; k < 20; k++) {
        b.setCurrentKey(`k${k}`);
        s.registerEventTimeTimer(w, 1000 + w);
        s.registerEventTimeTimer(String(w), 1000 + w);
        if (round === 0) want.push(`E k${k} ${w} ${1000 + w}`, `E k${k} ${w} ${1000 + w}`);
      }
    }
  }
  // Deleting one pair of one key removes only that key's timer.
  b.setCurrentKey("k3");
  s.deleteEventTimeTimer(5, 1005);
  want.splice(want.indexOf("E k3 5 1005"), 1);
  s.advanceWatermark(2000);
  assert.deepEqual([...log].sort(), [...want].sort());
});

test("a timer registered while timers fire fires in the same advance when due", () => {
  const b = backend();
  const log: string[] = [];
  const s = new InternalTimerService(b, {
    onEventTime: (ts) => {
      log.push(`${b.getCurrentKey()}@${ts}`);
      if (ts < 30) s.registerEventTimeTimer(0, ts + 10);
    },
    onProcessingTime: () => undefined,
  });
  b.setCurrentKey("k");
  s.registerEventTimeTimer(0, 10);
  s.advanceWatermark(25);
  assert.deepEqual(log, ["k@10", "k@20"]);
  s.advanceWatermark(100);
  assert.deepEqual(log, ["k@10", "k@20", "k@30"]);
});

test("timers of one time fire in registration order, also one registered for that time while it fires", () => {
  const b = backend();
  const log: string[] = [];
  const s = new InternalTimerService(b, {
    onEventTime: (ts) => {
      const key = String(b.getCurrentKey());
      log.push(`${key}@${ts}`);
      if (key === "a") {
        b.setCurrentKey("late");
        s.registerEventTimeTimer(0, 10);
      }
    },
    onProcessingTime: () => undefined,
  });
  for (const [key, ts] of [
    ["c", 20],
    ["a", 10],
    ["b", 10],
  ] as const) {
    b.setCurrentKey(key);
    s.registerEventTimeTimer(0, ts);
  }
  s.advanceWatermark(20);
  assert.deepEqual(log, ["a@10", "b@10", "late@10", "c@20"]);
});

test("a timer whose callback throws leaves the timers after it queued: they fire at the next advance", () => {
  const b = backend();
  const log: string[] = [];
  let failed = false;
  const s = new InternalTimerService(b, {
    onEventTime: (ts) => {
      const key = String(b.getCurrentKey());
      if (key === "b" && !failed) {
        failed = true;
        throw new Error("timer of b failed");
      }
      log.push(`${key}@${ts}`);
    },
    onProcessingTime: () => undefined,
  });
  for (const key of ["a", "b", "c", "d"]) {
    b.setCurrentKey(key);
    s.registerEventTimeTimer(0, 10);
  }
  assert.throws(() => s.advanceWatermark(10), /timer of b failed/);
  assert.deepEqual(log, ["a@10"]);
  assert.equal(s.queued, 2, "c and d are still queued");
  s.advanceWatermark(10);
  assert.deepEqual(log, ["a@10", "c@10", "d@10"], "b's timer was taken: it fired (and failed) once");
});

test("processing-time timers fire by the clock, in order; close() stops the clock", async () => {
  const b = backend();
  const log: string[] = [];
  const s = service(b, log);
  const now = Date.now();
  b.setCurrentKey("x");
  s.registerProcessingTimeTimer("n", now + 40);
  s.registerProcessingTimeTimer("n", now + 20);
  b.setCurrentKey("y");
  s.registerProcessingTimeTimer("n", now + 60);
  s.deleteProcessingTimeTimer("n", now + 60);
  b.setCurrentKey("z");
  s.registerProcessingTimeTimer("n", now + 3_600_000);
  await waitFor(() => (log.length >= 2 ? true : undefined), 10_000, "the two timers of x");
  // Past the deleted timer's time: it never fires (however slow the machine, waiting longer only makes that surer).
  while (Date.now() <= now + 100) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(log, [`P x n ${now + 20}`, `P x n ${now + 40}`]);
  b.setCurrentKey("w");
  const due = Date.now() + 20;
  s.registerProcessingTimeTimer("n", due);
  s.close();
  while (Date.now() <= due + 50) await new Promise((r) => setTimeout(r, 20));
  assert.equal(log.length, 2, "the closed service fires nothing more");
});

test("timers are keyed state: a snapshot restores them, and rescaling moves each key's timers with its key group", () => {
  const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
  const old = [backend(2, 0), backend(2, 1)];
  const oldServices = old.map((b) => service(b, []));
  for (const [i, k] of keys.entries()) {
    const owner = old.findIndex((b) => {
      const g = keyGroupFor(k, MAXP);
      return g >= b.keyGroupRange.start && g <= b.keyGroupRange.end;
    });
    old[owner]!.setCurrentKey(k);
    oldServices[owner]!.registerEventTimeTimer(i % 2 === 0 ? 7 : "w", 100 + i);
    oldServices[owner]!.registerProcessingTimeTimer(0, Date.now() + 3_600_000 + i);
  }
  for (const s of oldServices) s.close();
  const snapshots = old.map((b) => b.snapshot());
  // Restore at parallelism 3: every timer comes back exactly once, in the subtask owning its key.
  const fired: string[][] = [];
  for (let i = 0; i < 3; i++) {
    const b = backend(3, i);
    b.restore(snapshots);
    const log: string[] = [];
    const s = service(b, log);
    s.restore();
    assert.equal(s.queued, [...b.keys("__timers_event")].length * 2);
    s.advanceWatermark(Number.POSITIVE_INFINITY);
    s.close();
    for (const l of log) {
      const key = l.split(" ")[1]!;
      const g = keyGroupFor(key, MAXP);
      assert.ok(g >= b.keyGroupRange.start && g <= b.keyGroupRange.end, `${key} fired in its owner`);
    }
    fired.push(log);
  }
  const all = fired.flat().sort();
  assert.deepEqual(all, keys.map((k, i) => `E ${k} ${i % 2 === 0 ? 7 : "w"} ${100 + i}`).sort());
});

test("queued timers fire in time order among the others, are not deduplicated, and no snapshot holds them", () => {
  const b = backend();
  const log: string[] = [];
  const s = service(b, log);
  b.setCurrentKey("a");
  s.queueEventTimeTimer(5, 20);
  s.queueEventTimeTimer(5, 20);
  s.registerEventTimeTimer(6, 10);
  b.setCurrentKey("b");
  s.queueEventTimeTimer(7, 10);
  s.deleteEventTimeTimer(7, 10); // only a timer in keyed state can be deleted
  assert.deepEqual([...b.keys("__timers_event")], ["a"], "only the registered timer is in keyed state");
  const restored = backend();
  restored.restore([b.snapshot()]);
  const log2: string[] = [];
  const s2 = service(restored, log2);
  s2.restore();
  s2.advanceWatermark(100);
  assert.deepEqual(log2, ["E a 6 10"], "a restore brings back the registered timer only");
  s.advanceWatermark(100);
  assert.deepEqual(log, ["E a 6 10", "E b 7 10", "E a 5 20", "E a 5 20"]);
  assert.deepEqual([...b.keys("__timers_event")], [], "the registered timer left keyed state when it fired");
});
