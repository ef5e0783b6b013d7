/**
 * NATS failures classified by nats.js's typed errors, with errors obtained from a real nats-server:
 * no responders, a request timeout, a stream or consumer that does not exist, a stale KV revision,
 * a refused stream config, a JetStream publish nobody answers. Text alone no longer makes an error
 * transient; a wrapping Eddy error is classified as the failure it wraps.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { jetstream, jetstreamManager, JetStreamApiError, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { EddyError, ErrorCode, TimeoutError } from "../../src/core/errors.js";
import { connectNats } from "../../src/rpc/nats.js";
import { isConsumerNotFound, isNoResponders, isRevisionConflict, isStreamNotFound, isTimeout, isTransient } from "../../src/jetstream/index.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";

let nats: TestNats;
let nc: NatsConnection;
let jsm: JetStreamManager;
let kv: KV;
const BUCKET = "eddy-test-nats-errors";

before(async () => {
  nats = await startTestNats({ jetstream: true });
  nc = await connectNats(nats.url, "nats-errors-test");
  jsm = await jetstreamManager(nc);
  kv = await new Kvm(nc).create(BUCKET);
});
after(async () => {
  await nc.close();
  await nats.stop();
});

/** What `p` rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail("expected a rejection");
}

/** An Eddy error wrapping `cause` the way the stores do (the NATS text copied into the message). */
function wrapped(cause: unknown): EddyError {
  return new EddyError(ErrorCode.CheckpointStorageFailed, `cannot store: ${(cause as Error).message}`, { cause });
}

test("a request to a subject nobody serves is no-responders and transient", async () => {
  const err = await failure(nc.request("eddy.test.nobody", new Uint8Array(0), { timeout: 2_000 }));
  assert.ok(isNoResponders(err));
  assert.ok(isTransient(err));
  assert.ok(isTransient(wrapped(err)));
  assert.equal(isTimeout(err), false);
  assert.equal(isStreamNotFound(err), false);
});

test("a request nobody answers in time is a timeout and transient", async () => {
  const sub = nc.subscribe("eddy.test.silent", { callback: () => {} });
  try {
    const err = await failure(nc.request("eddy.test.silent", new Uint8Array(0), { timeout: 50 }));
    assert.ok(isTimeout(err));
    assert.ok(isTransient(err));
    assert.equal(isNoResponders(err), false);
  } finally {
    sub.unsubscribe();
  }
  assert.ok(isTimeout(new TimeoutError("waiting timed out")), "Eddy's own timeout (RpcTimeout) counts too");
});

test("a stream that does not exist is stream-not-found (10059), which is transient", async () => {
  const err = await failure(jsm.streams.info("eddy-test-no-such-stream"));
  assert.ok(err instanceof JetStreamApiError && err.code === 10059);
  assert.ok(isStreamNotFound(err));
  assert.ok(isStreamNotFound(wrapped(err)));
  assert.ok(isTransient(err));
  assert.equal(isConsumerNotFound(err), false);
});

test("a consumer that does not exist is consumer-not-found (10014), which is not transient", async () => {
  const err = await failure(jsm.consumers.info(`KV_${BUCKET}`, "no-such-consumer"));
  assert.ok(isConsumerNotFound(err));
  assert.equal(isStreamNotFound(err), false);
  assert.equal(isTransient(err), false);
});

test("a KV update at a stale revision and a create of an existing key are revision conflicts, not transient", async () => {
  const r1 = await kv.create("k", new TextEncoder().encode("a"));
  await kv.update("k", new TextEncoder().encode("b"), r1);
  const stale = await failure(kv.update("k", new TextEncoder().encode("c"), r1));
  assert.ok(isRevisionConflict(stale));
  assert.ok(isRevisionConflict(wrapped(stale)));
  assert.equal(isTransient(stale), false);
  const existing = await failure(kv.create("k", new TextEncoder().encode("d")));
  assert.ok(isRevisionConflict(existing));
});

test("a stream the server refuses (subjects overlap, 10065) is neither transient nor a conflict", async () => {
  const err = await failure(jsm.streams.add({ name: "eddy-test-overlap", subjects: [`$KV.${BUCKET}.>`] }));
  assert.ok(err instanceof JetStreamApiError && err.code === 10065, String(err));
  assert.equal(isTransient(err), false);
  assert.equal(isRevisionConflict(err), false);
  assert.equal(isStreamNotFound(err), false);
});

test("a JetStream publish nobody answers is transient only where JetStream is known to run", async () => {
  const err = await failure(jetstream(nc, { timeout: 2_000 }).publish("eddy.test.no-stream", new Uint8Array(1)));
  assert.equal(isTransient(err), false, "a server without JetStream: retrying does not help");
  assert.ok(isTransient(err, { jetStreamKnown: true }), "a stream without a leader for now");
});

test("text alone does not make an error transient or a conflict", () => {
  for (const message of [
    "timeout",
    "request timed out",
    "no responders",
    "503",
    "stream not found",
    "JetStream system temporarily unavailable",
    "wrong last sequence: 3",
  ]) {
    assert.equal(isTransient(new Error(message)), false, message);
    assert.equal(isRevisionConflict(new Error(message)), false, message);
    assert.equal(isStreamNotFound(new Error(message)), false, message);
  }
});
