/**
 * readObject over a real nats-server: objects written by nats.js itself read back by the pull
 * consumer, the same bytes by message gets when no consumer can be made, a chunk missing from the
 * stream refused as corrupt, and chunks stored out of order placed by the index in their message id.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
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
  for (
    let m = await jsm.streams.getMessage(stream, { seq: 1, next_by_subj: chunks } as never);
    m;
    m = await jsm.streams.getMessage(stream, { seq: m.seq + 1, next_by_subj: chunks } as never)
  )
    seq = m.seq;
  assert.ok(seq > 0);
  assert.equal(await jsm.streams.deleteMessage(stream, seq), true);
  await assert.rejects(readObject(withoutConsumers(js), BUCKET, info, 10_000), ObjectCorruptError);
  await assert.rejects(readObject(js, BUCKET, info, 10_000), ObjectCorruptError);
});

/**
 * Publishes `bytes` as Eddy's writer does (16 KiB chunks, each with the message id `<nuid>.<k>`),
 * in the chunk order `order` (1-based indexes), and gives the info a reader needs.
 */
async function putIndexed(name: string, bytes: Uint8Array, order: (chunks: number) => number[]) {
  const size = 16 * 1024;
  const nuid = randomBytes(11).toString("hex");
  const n = Math.ceil(bytes.length / size);
  for (const k of order(n)) await js.publish(`$O.${BUCKET}.C.${nuid}`, bytes.subarray((k - 1) * size, k * size), { msgID: `${nuid}.${k}` });
  const digest = `SHA-256=${createHash("sha256").update(bytes).digest("base64url")}=`;
  return { name, nuid, size: bytes.length, digest, options: { max_chunk_size: size } };
}

test("chunks stored out of order (a publish retried after later ones landed) are placed by their index, by pull and by message gets", async () => {
  const bytes = randomBytesOf(5 * 16 * 1024 + 123);
  // 1, 3, 2, 5, 6, 4: chunk 2's and chunk 4's retries landed after later chunks.
  const info = await putIndexed("out-of-order", bytes, () => [1, 3, 2, 5, 6, 4]);
  assert.deepEqual(await readObject(js, BUCKET, info, 10_000), bytes);
  assert.deepEqual(await readObject(withoutConsumers(js), BUCKET, info, 10_000), bytes);
});

test("an indexed chunk of the wrong size, or one missing, is ObjectCorruptError", async () => {
  const bytes = randomBytesOf(3 * 16 * 1024);
  const missing = await putIndexed("indexed-missing", bytes, () => [3, 1]);
  await assert.rejects(readObject(withoutConsumers(js), BUCKET, missing, 10_000), ObjectCorruptError);
  const info = await putIndexed("indexed-short", bytes, () => [1, 2, 3]);
  await assert.rejects(readObject(js, BUCKET, { ...info, size: bytes.length + 10 }, 10_000), ObjectCorruptError);
});
