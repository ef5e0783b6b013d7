/**
 * The event-loop lag metric: a thread kept from its timers for a while reports at least that long; the
 * slot threads' monitors get coarser as a TaskExecutor has more slots, so together they stay cheap.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventLoopLag, slotLagResolutionMs } from "../../src/metrics/process-metrics.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const resolution of [20, 128]) {
  test(`a thread blocked for 400 ms reports at least 400 ms less the resolution as event-loop lag (${resolution} ms resolution)`, async () => {
    const lag = new EventLoopLag(true, resolution);
    try {
      await sleep(300);
      lag.take();
      // The measurement starts again at the monitor's first tick after a take (a documented blind
      // spot): the block begins after a few ticks.
      await sleep(3 * resolution);
      const until = Date.now() + 400;
      while (Date.now() < until); // the thread runs nothing else meanwhile
      await sleep(2 * resolution); // the late tick is recorded when it fires
      const blocked = lag.take();
      // The tick the block held back waited at least 400 ms; the resolution is subtracted from it. A
      // slower machine only makes that wait longer: no upper bound is asserted.
      assert.ok(blocked >= 400 - resolution - 1, `reported ${blocked} ms for a 400 ms block`);
    } finally {
      lag.setActive(false);
    }
  });
}

test("an inactive monitor reports nothing", async () => {
  const lag = new EventLoopLag(false);
  assert.equal(lag.active, false);
  const until = Date.now() + 150;
  while (Date.now() < until);
  await sleep(50);
  assert.equal(lag.take(), 0);
});

test("slot threads' monitors are 20 ms up to 5 slots, then 4 ms per slot, at most 1 s", () => {
  assert.deepEqual([1, 2, 5, 6, 128, 250, 256, 1000].map(slotLagResolutionMs), [20, 20, 20, 24, 512, 1000, 1000, 1000]);
});
