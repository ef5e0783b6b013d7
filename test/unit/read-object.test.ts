/**
 * readObject over a real nats-server: objects written by nats.js itself read back by the pull
 * consumer, the same bytes by message gets when no consumer can be made, and a chunk missing from the
 * stream refused as corrupt.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { Objm, setSha256Backend, type ObjectStore } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { ObjectCorruptError, readObject } from "../../src/objectstore/index.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { randomBytesOf } from "../helpers/random-bytes.js";

const BUCKET = "eddy-test-read-object";
let nats: TestNats;
let nc: NatsConnection;
let js: JetStreamClient;
let os: ObjectStore;

before(async () => {
  setSha256Backend("native");
  nats = await startTestNats({ jetstream: true });
  nc = await connectNats(nats.url, "read-object-test");
  js = jetstream(nc);
  os = await new Objm(nc).create(BUCKET);
});
after(async () => {
  await nc.close();
  await nats.stop();
});

/** Puts `bytes` with nats.js's own writer (chunks of 16 KiB) and gives its info. */
async function put(name: string, bytes: Uint8Array) {
  await os.putBlob({ name, options: { max_chunk_size: 16 * 1024 } }, bytes);
  const info = await os.info(name);
  assert.ok(info);
  return info;
}

/** A client whose consumers cannot be created (as when a NATS server is lost): only message gets work. */
function withoutConsumers(real: JetStreamClient): JetStreamClient {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === "consumers") return { get: () => Promise.reject(new Error("no consumer: the server is gone")) };
      return Reflect.get(target, prop, receiver);
    },
  });
}

test("an object written by nats.js reads back whole, from 0 bytes to many chunks", async () => {
  for (const size of [0, 1, 16 * 1024, 300_001]) {
    const bytes = randomBytesOf(size);
    const info = await put(`whole-${size}`, bytes);
    assert.deepEqual(await readObject(js, BUCKET, info, 10_000), bytes, `${size} bytes`);
  }
});

test("without a consumer the object is read chunk by chunk by message gets, the same bytes", async () => {
  const bytes = randomBytesOf(200_000);
  const info = await put("by-gets", bytes);
  assert.deepEqual(await readObject(withoutConsumers(js), BUCKET, info, 10_000), bytes);
});

test("a chunk missing from the stream is ObjectCorruptError, by pull and by message gets", async () => {
  const bytes = randomBytesOf(100_000);
  const info = await put("missing-chunk", bytes);
  const jsm = await jetstreamManager(nc);
  // Remove the object's last chunk: the first of its subject from the end.
  const chunks = `$O.${BUCKET}.C.${info.nuid}`;
  const stream = `OBJ_${BUCKET}`;
  let seq = 0;
  for (let m = await jsm.streams.getMessage(stream, { seq: 1, next_by_subj: chunks } as never); m; m = await jsm.streams.getMessage(stream, { seq: m.seq + 1, next_by_subj: chunks } as never)) seq = m.seq;
  assert.ok(seq > 0);
  assert.equal(await jsm.streams.deleteMessage(stream, seq), true);
  await assert.rejects(readObject(withoutConsumers(js), BUCKET, info, 10_000), ObjectCorruptError);
  await assert.rejects(readObject(js, BUCKET, info, 10_000), ObjectCorruptError);
});
