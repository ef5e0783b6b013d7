/**
 * The ResourceManager's probe of TaskExecutors, against a real nats-server with stand-in
 * TaskExecutors on raw NATS subscriptions (no liveness marker): one that heartbeats is never
 * probed, and one that stops answering is found by the probe of its late heartbeat, long before
 * the heartbeat timeout.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { ResourceManager } from "../../actors/resourcemanager/resource-manager.js";
import { connectNats } from "../../src/rpc/nats.js";
import { Gateway } from "../../src/rpc/gateway.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { LeaderPublisher } from "../../src/ha/leader-retrieval.js";
import { pino } from "pino";
import { sleep, waitFor } from "../../src/core/time.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";

let nats: TestNats;
let nc: NatsConnection;
const rms: ResourceManager[] = [];

before(async () => {
  nats = await startTestNats({ jetstream: true });
  nc = await connectNats(nats.url, "rm-probe");
});
after(async () => {
  for (const rm of rms) await rm.stop().catch(() => undefined);
  await nc.close();
  await nats.stop();
});

/**
 * A ResourceManager under `prefix` with a 6 s heartbeat timeout (heartbeats every 1.5 s, late after
 * 2.25 s, checked every 1.5 s); `lost` collects the reasons it logs for the TaskExecutors it loses.
 */
function startRm(prefix: string) {
  const subjects = new Subjects(prefix);
  const leader = LeaderPublisher.info("jm-probe");
  const lost: string[] = [];
  const log = pino({ level: "warn" }, { write: (line: string) => void (JSON.parse(line).msg === "TaskExecutor lost" && lost.push(JSON.parse(line).reason)) });
  const rm = new ResourceManager(nc, subjects, leader, log, { heartbeatTimeoutMs: 6_000 });
  rm.start();
  rms.push(rm);
  return { rm, subjects, lost, gw: new Gateway(nc, subjects.resourceManager, { token: leader.sessionId }) };
}

/** A stand-in TaskExecutor's bare subject, answering probes and counting them. */
function answerProbes(subjects: Subjects, id: string) {
  const probes = { count: 0 };
  const sub = nc.subscribe(subjects.taskExecutor(id), {
    callback: (_err, m) => {
      probes.count++;
      m.respond();
    },
  });
  return { probes, sub };
}

const register = (gw: Gateway, id: string) => gw.ask("registerTaskExecutor", { taskExecutorId: id, pid: 1, host: "test", slots: [{ index: 0 }] });

test("a TaskExecutor that heartbeats is never probed", async () => {
  const { gw, subjects } = startRm("probe1");
  const te = answerProbes(subjects, "te_alive");
  try {
    await register(gw, "te_alive");
    // Heartbeats every 0.5 s for 5 s: three checks, at two of which the heartbeat would be late without them.
    for (let i = 0; i < 10; i++) {
      await sleep(500);
      await gw.ask("heartbeat", { taskExecutorId: "te_alive", slots: [{ index: 0 }] });
    }
    assert.equal(te.probes.count, 0, "no probe of a TaskExecutor whose heartbeats arrive");
  } finally {
    te.sub.unsubscribe();
  }
});

test("a TaskExecutor gone without a marker is lost by the probe of its late heartbeat, before the heartbeat timeout", async () => {
  const { rm, gw, subjects, lost } = startRm("probe2");
  const te = answerProbes(subjects, "te_gone");
  await register(gw, "te_gone");
  // Alive but silent: probes are answered, so it stays registered.
  await waitFor(() => te.probes.count > 0 || undefined, 6_000, "a probe once the heartbeat is late");
  assert.ok(
    (await rm.taskExecutors()).some((t) => t.id === "te_gone"),
    "a TaskExecutor that answers its probe is kept",
  );
  te.sub.unsubscribe(); // its connection's subscriptions gone, as when the process dies
  await waitFor(async () => !(await rm.taskExecutors()).some((t) => t.id === "te_gone") || undefined, 10_000, "the TaskExecutor lost");
  assert.deepEqual(lost, ["its heartbeat is late and nobody answers (its NATS connection closed)"], "found by the probe, not the timeout");
});
