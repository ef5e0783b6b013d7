/**
 * `eddy info`'s view of the NATS server, read from a real nats-server: the bundle store's replicas
 * through JetStream's API (one on a single server, unknown before the store exists), and the warnings
 * an unsecured single server earns.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { BundleStore } from "../../src/blob/index.js";
import { natsPosture } from "../../src/security/nats-posture.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";

let nats: TestNats;
let nc: NatsConnection;

before(async () => {
  nats = await startTestNats({ jetstream: true });
  nc = await connectNats(nats.url, "nats-posture-test");
});
after(async () => {
  await nc.close();
  await nats.stop();
});

test("the posture reads the bundle store's replicas from JetStream, unknown before the store exists", async () => {
  const subjects = new Subjects("posture");
  const before = await natsPosture(nc, subjects.prefix);
  assert.equal(before.jetstream.replicas, null, "no bundle store yet");
  assert.ok(!before.warnings.some((w) => w.includes("one replica")));

  await BundleStore.open(nc, subjects);
  const p = await natsPosture(nc, subjects.prefix);
  assert.equal(p.jetstream.replicas, 1);
  assert.equal(p.auth, false);
  assert.ok(
    p.warnings.some((w) => w.includes("JetStream keeps one replica")),
    JSON.stringify(p.warnings),
  );
  assert.ok(
    p.warnings.some((w) => w.includes("asks for no credentials")),
    JSON.stringify(p.warnings),
  );
});
