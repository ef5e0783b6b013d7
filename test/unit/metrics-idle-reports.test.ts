/**
 * Idle reporters publish less: an idle TaskExecutor (no slot thread at work, slots unchanged) and
 * unchanged cluster metrics go out every fifth interval; a change goes out at the next interval.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { ClusterMetricsPublisher, CLUSTER_UNCHANGED_EVERY } from "../../actors/resourcemanager/cluster-metrics.js";
import { IDLE_REPORT_EVERY, TaskExecutorMetricsReporter } from "../../actors/taskexecutor/metrics-reporter.js";
import type { TaskExecutorInfo } from "../../actors/resourcemanager/protocol.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { silentLogger } from "../../src/core/logger.js";

/** A connection that only records the subjects published to. */
function recordingNats(): { nc: NatsConnection; published: string[] } {
  const published: string[] = [];
  return { nc: { publish: (subject: string) => void published.push(subject) } as unknown as NatsConnection, published };
}

const te = (freeSlots: number): TaskExecutorInfo => ({ id: "te_1", pid: 1, host: "h", slots: 2, freeSlots }) as TaskExecutorInfo;

test("unchanged cluster metrics are published every fifth interval, a change at once", () => {
  const { nc, published } = recordingNats();
  const p = new ClusterMetricsPublisher(nc, new Subjects("t"));
  for (let i = 0; i < 2 * CLUSTER_UNCHANGED_EVERY; i++) p.tick([te(2)]);
  assert.equal(published.length, 2, "the first, then one every fifth interval");
  p.tick([te(1)]);
  assert.equal(published.length, 3, "a slot taken goes out at once");
});

test("an idle TaskExecutor reports every fifth interval; a slot allocated or a slot thread at work is reported at once", () => {
  const { nc, published } = recordingNats();
  let free = 2;
  const r = new TaskExecutorMetricsReporter(nc, new Subjects("t"), "te_1", () => ({ total: 2, free }), silentLogger());
  const tick = () => (r as unknown as { publish(): void }).publish();
  try {
    for (let i = 0; i < 2 * IDLE_REPORT_EVERY; i++) tick();
    assert.equal(published.length, 2, "the first report, then one every fifth interval");
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
