import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { IoTimer } from "../../src/network/index.js";
import { sleep } from "../../src/core/time.js";

test("busy, idle and back-pressured time are disjoint and add up to the task's wall time", async () => {
  const t0 = performance.now();
  const timer = new IoTimer();
  timer.idleStart();
  await sleep(40);
  timer.idleEnd();
  timer.backPressureStart();
  await sleep(40);
  timer.backPressureEnd();
  const now = performance.now();
  const times = { busy: 0, idle: 0, backPressured: 0 };
  timer.sample(times, now);
  assert.ok(times.idle >= 35, `idle ${times.idle}`);
  assert.ok(times.backPressured >= 35, `backPressured ${times.backPressured}`);
  const sum = times.busy + times.idle + times.backPressured;
  assert.ok(sum <= now - t0 + 0.001 && sum >= now - t0 - 5, `sum ${sum} vs wall ${now - t0}`);
});

test("a wait still open counts up to the sample; a wait for output counts before one for input", async () => {
  const timer = new IoTimer();
  const times = { busy: 0, idle: 0, backPressured: 0 };
  timer.idleStart();
  await sleep(20);
  timer.sample(times);
  assert.ok(times.idle >= 15, "the open wait counts");
  const idleBefore = times.idle;
  timer.backPressureStart(); // a chain member waits for output while another waits for input
  await sleep(20);
  timer.sample(times);
  assert.ok(times.backPressured >= 15);
  assert.ok(times.idle - idleBefore < 5, "overlapping time is back-pressured, not idle as well");
  timer.backPressureEnd();
  timer.idleEnd();
});
