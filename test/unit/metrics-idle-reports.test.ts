/**
 * Idle reporters publish less: an idle TaskExecutor (no slot thread at work, slots unchanged) reports
 * every tenth interval and sleeps in between; cluster metrics go out when they change and on the
 * ResourceManager's periodic republish.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { ClusterMetricsPublisher } from "../../actors/resourcemanager/cluster-metrics.js";
import { IDLE_REPORT_EVERY, TaskExecutorMetricsReporter } from "../../actors/taskexecutor/metrics-reporter.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { silentLogger } from "../../src/core/logger.js";

/** A connection that only records the subjects published to. */
function recordingNats(): { nc: NatsConnection; published: string[] } {
  const published: string[] = [];
  return { nc: { publish: (subject: string) => void published.push(subject) } as unknown as NatsConnection, published };
}

test("cluster metrics go out when they change, and again on each republish", () => {
  const { nc, published } = recordingNats();
  const p = new ClusterMetricsPublisher(nc, new Subjects("t"));
  const totals = (free: number) => ({ taskExecutors: 1, slots: 2, free });
  p.update(totals(2));
  for (let i = 0; i < 10; i++) p.update(totals(2));
  assert.equal(published.length, 1, "the first; the same totals again publish nothing");
  p.update(totals(1));
  assert.equal(published.length, 2, "a slot taken goes out at once");
  p.republish(totals(1));
  assert.equal(published.length, 3, "the periodic republish goes out unchanged");
});

test("an idle TaskExecutor reports every tenth interval; a slot allocated or a slot thread at work is reported at once", () => {
  const { nc, published } = recordingNats();
  let free = 2;
  const r = new TaskExecutorMetricsReporter(nc, new Subjects("t"), "te_1", () => ({ total: 2, free }), silentLogger());
  const tick = () => (r as unknown as { publish(): void }).publish();
  try {
    for (let i = 0; i < 2 * IDLE_REPORT_EVERY; i++) tick();
    assert.equal(published.length, 2, "the first report, then one every tenth interval");
    free = 1;
    tick();
    assert.equal(published.length, 3, "the allocation is reported at once");
    r.fromSlot(0, 0, []);
    tick();
    tick();
    assert.equal(published.length, 5, "a slot thread at work: every interval");
  } finally {
    r.stop();
  }
});

test("an idle TaskExecutor's reporter sleeps through the intervals it skips; a slot thread's values or a slot change wake it", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { nc, published } = recordingNats();
  let free = 2;
  const r = new TaskExecutorMetricsReporter(nc, new Subjects("t"), "te_1", () => ({ total: 2, free }), silentLogger());
  try {
    t.mock.timers.tick(1_000);
    assert.equal(published.length, 1, "the first report after one interval");
    // Idle: the next report is due after IDLE_REPORT_EVERY intervals, with no wake in between.
    t.mock.timers.tick(IDLE_REPORT_EVERY * 1_000 - 1);
    assert.equal(published.length, 1);
    t.mock.timers.tick(1);
    assert.equal(published.length, 2, "one report per idle period");
    // A slot allocated in the middle of a sleep goes out one interval later, not at the sleep's end.
    t.mock.timers.tick(2_000);
    free = 1;
    r.slotsChanged();
    t.mock.timers.tick(1_000);
    assert.equal(published.length, 3, "the allocation is reported one interval after it");
    // A slot thread at work: a report every interval.
    r.fromSlot(0, 0, []);
    t.mock.timers.tick(1_000);
    r.fromSlot(0, 0, []);
    t.mock.timers.tick(1_000);
    assert.equal(published.length, 5);
  } finally {
    r.stop();
  }
});
