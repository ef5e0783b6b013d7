/**
 * CheckpointStorage over a real nats-server: round trips from 0 B to 30 MB, typed errors on missing
 * or corrupt state, deletion that leaves nothing in the stream, prefix deletion that stays within
 * its checkpoint/job/savepoint, and a server whose max_payload is 1 MB.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Base64UrlPaddedCodec } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { EddyError, ErrorCode, InternalError, NotFoundError } from "../../src/core/errors.js";
import { startNatsServer } from "../../src/cluster/nats-server.js";
import {
  CheckpointIdCounter,
  CheckpointStorage,
  DEFAULT_CHUNK_BYTES,
  checkpointObjectName,
  checkpointPrefix,
  jobPrefix,
  savepointObjectName,
  savepointPrefix,
} from "../../src/checkpoint/index.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { randomBytesOf } from "../helpers/random-bytes.js";
import { HeapKeyedStateBackend } from "../../src/state/index.js";

let nats: TestNats;
let nc: NatsConnection;
let jsm: JetStreamManager;
let storage: CheckpointStorage;
const subjects = new Subjects("eddy-test-ckst");

before(async () => {
  nats = await startTestNats({ jetstream: true });
  nc = await connectNats(nats.url, "checkpoint-storage-test");
  jsm = await jetstreamManager(nc);
  storage = await CheckpointStorage.open(nc, subjects);
});
after(async () => {
  await nc.close();
  await nats.stop();
});

const bytesOf = randomBytesOf;

async function streamMessages(): Promise<number> {
  return (await jsm.streams.info(`OBJ_${storage.bucket}`)).state.messages;
}

test("the bucket is named after the cluster prefix and uses the default chunk size", () => {
  assert.equal(storage.bucket, "eddy-test-ckst_state");
  assert.equal(storage.effectiveChunkBytes, DEFAULT_CHUNK_BYTES);
});

for (const [label, size] of [
  ["0 B", 0],
  ["1 B", 1],
  ["1 MB", 1_000_000],
  ["30 MB", 30_000_000],
] as const) {
  test(`write/read round trip, ${label}`, async () => {
    const data = bytesOf(size);
    const name = checkpointObjectName("rt", 1, "op", size, "raw");
    const h = await storage.write(name, data);
    assert.equal(h.object, name);
    assert.equal(h.bytes, size);
    assert.match(h.digest ?? "", /^SHA-256=/);
    const back = await storage.read(h);
    assert.equal(back.length, size);
    assert.ok(Buffer.from(back).equals(Buffer.from(data)), "same bytes back");
    // A plain StateHandle (no digest) reads too.
    assert.equal((await storage.read({ object: name, bytes: size })).length, size);
    await storage.delete(h);
  });
}

test("the caller keeps running while a big write is in flight", async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const h = await storage.write("busy/chk-1/op-0-raw", bytesOf(20_000_000));
  clearInterval(timer);
  assert.ok(ticks > 3, `event loop ran during the write (${ticks} ticks)`);
  await storage.delete(h);
});

test("a keyed snapshot streamed into the store while the state keeps changing holds the state of its instant; a canceled one stores nothing", async () => {
  const b = new HeapKeyedStateBackend({ maxParallelism: 128, keyGroupRange: { start: 0, end: 127 } });
  const v = b.getValueState<{ n: number; pad: string }>("v");
  const l = b.getListState<number>("l");
  const N = 30_000;
  for (let i = 0; i < N; i++) {
    b.setCurrentKey(`k${i}`);
    v.update({ n: i, pad: "x".repeat(100) });
    l.add(i);
  }
  const expected = b.snapshot();
  const snap = b.snapshotAsync(); // the barrier: from here on the task keeps processing
  let writing = true;
  let changes = 0;
  const processing = (async () => {
    while (writing) {
      for (let j = 0; j < 300; j++) {
        b.setCurrentKey(`k${changes++ % N}`);
        v.value()!.n = -1; // changed in place
        l.add(-1);
        b.setCurrentKey(`new-${changes}`);
        v.update({ n: changes, pad: "" });
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  const h = await storage.writeStream(checkpointObjectName("cow", 1, "op", 0, "keyed"), snap);
  writing = false;
  await processing;
  assert.ok(changes >= 600, `the task processed while the snapshot streamed out (${changes} changes)`);
  assert.ok(expected.length > 3 * storage.effectiveChunkBytes, "several chunks");
  assert.deepEqual(Buffer.from(await storage.read(h)), Buffer.from(expected), "the stored snapshot is the state at the barrier");
  b.setCurrentKey("k0");
  assert.equal(v.value()!.n, -1, "the live state has the later changes");

  const c = b.snapshotAsync();
  const writing2 = storage.writeStream(checkpointObjectName("cow", 2, "op", 0, "keyed"), c);
  setImmediate(() => c.cancel("checkpoint 2 aborted"));
  await assert.rejects(writing2, /snapshot canceled: checkpoint 2 aborted/);
  assert.deepEqual(await storage.list(checkpointPrefix("cow", 2)), [], "nothing of a canceled snapshot stays");
  await storage.deletePrefix(checkpointPrefix("cow", 1));
});

test("reading a missing handle is NotFoundError StateNotFound", async () => {
  await assert.rejects(storage.read({ object: "nope/chk-1/op-0-keyed", bytes: 3 }), (e: unknown) => {
    assert.ok(e instanceof NotFoundError);
    assert.equal(e.code, ErrorCode.StateNotFound);
    assert.equal(e.code, "StateNotFound");
    return true;
  });
});

test("a size or digest that disagrees with the handle is StateCorrupt", async () => {
  const h = await storage.write("corrupt/chk-1/op-0-keyed", bytesOf(300_000));
  const isCorrupt = (e: unknown): boolean => e instanceof EddyError && e.code === ErrorCode.StateCorrupt;
  await assert.rejects(storage.read({ ...h, bytes: h.bytes + 1 }), isCorrupt);
  await assert.rejects(storage.read({ ...h, digest: "SHA-256=AAAA" }), isCorrupt);
  // Overwritten with other bytes of the same size: the recorded digest catches it.
  await storage.write(h.object, bytesOf(300_000));
  await assert.rejects(storage.read(h), isCorrupt);
  await storage.delete(h);
});

test("chunks whose SHA-256 differs from the recorded digest are StateCorrupt, also for a handle without a digest", async () => {
  const h = await storage.write("corrupt/chk-2/op-0-keyed", bytesOf(3 * DEFAULT_CHUNK_BYTES + 17));
  // Rewrite the object's metadata with another digest: the chunks stay, the record no longer matches them.
  const meta = `$O.${storage.bucket}.M.${Base64UrlPaddedCodec.encode(h.object)}`;
  const m = await jsm.streams.getMessage(`OBJ_${storage.bucket}`, { last_by_subj: meta });
  const info = JSON.parse(new TextDecoder().decode(m!.data)) as { digest: string };
  const js = jetstream(nc);
  await js.publish(meta, JSON.stringify({ ...info, digest: `SHA-256=${Base64UrlPaddedCodec.encode(new Uint8Array(32))}` }));
  await assert.rejects(
    storage.read({ object: h.object, bytes: h.bytes }),
    (e: unknown) => e instanceof EddyError && e.code === ErrorCode.StateCorrupt && /SHA-256 does not match/.test(e.message),
  );
  await storage.delete(h.object);
});

test("delete leaves nothing in the stream and is idempotent", async () => {
  const before = await streamMessages();
  const h = await storage.write("del/chk-1/op-0-keyed", bytesOf(3 * DEFAULT_CHUNK_BYTES + 5));
  assert.equal(await streamMessages(), before + 5, "4 chunks and the metadata");
  await storage.delete(h);
  assert.equal(await streamMessages(), before, "no chunk, metadata or deletion marker left");
  await storage.delete(h);
  await storage.delete("never/chk-1/op-0-keyed");
  await assert.rejects(storage.read(h), NotFoundError);
});

test("deletePrefix removes one checkpoint, one job or one savepoint and nothing else", async () => {
  const names = [
    checkpointObjectName("jobA", 1, "op", 0, "keyed"),
    checkpointObjectName("jobA", 1, "op", 1, "keyed"),
    checkpointObjectName("jobA", 10, "op", 0, "keyed"),
    checkpointObjectName("jobA", 2, "op", 0, "operator"),
    checkpointObjectName("jobAB", 1, "op", 0, "keyed"),
    savepointObjectName("sp-1", "op", 0, "keyed"),
    savepointObjectName("sp-10", "op", 0, "keyed"),
  ];
  for (const n of names) await storage.write(n, bytesOf(10));
  assert.equal(await storage.deletePrefix(checkpointPrefix("jobA", 1)), 2);
  assert.deepEqual(
    (await storage.list("jobA")).map((o) => o.name),
    ["jobA/chk-10/op-0-keyed", "jobA/chk-2/op-0-operator", "jobAB/chk-1/op-0-keyed"],
  );
  assert.equal(await storage.deletePrefix(jobPrefix("jobA")), 2);
  assert.deepEqual(
    (await storage.list("jobA")).map((o) => o.name),
    ["jobAB/chk-1/op-0-keyed"],
  );
  assert.equal(await storage.deletePrefix(savepointPrefix("sp-1")), 1);
  assert.deepEqual(
    (await storage.list("savepoints/")).map((o) => o.name),
    ["savepoints/sp-10/op-0-keyed"],
  );
  await assert.rejects(storage.deletePrefix("jobAB"), InternalError);
  await storage.deletePrefix(jobPrefix("jobAB"));
  await storage.deletePrefix(savepointPrefix("sp-10"));
  assert.deepEqual(await storage.list(), []);
});

test("a server with max_payload 1 MB: chunks clamp, objects and KV still work", async () => {
  const dir = mkdtempSync(join(tmpdir(), "eddy-ckpt-1mb-"));
  const conf = join(dir, "nats.conf");
  writeFileSync(conf, "host: 127.0.0.1\nmax_payload: 1MB\njetstream {\n}\n");
  const server = await startNatsServer({ storeDir: join(dir, "js"), confPath: conf });
  const nc1 = await connectNats(server.url, "checkpoint-storage-1mb");
  try {
    assert.equal(nc1.info?.max_payload, 1024 * 1024);
    const s1 = await CheckpointStorage.open(nc1, subjects, { chunkBytes: 4 << 20 });
    assert.equal(s1.effectiveChunkBytes, 1024 * 1024 - 1024, "max_payload less room for the message id header");
    for (const size of [1024 * 1024, 5_000_000]) {
      const data = bytesOf(size);
      const h = await s1.write(checkpointObjectName("small", 1, "op", size, "raw"), data);
      assert.ok(Buffer.from(await s1.read(h)).equals(Buffer.from(data)));
    }
    const counter = await CheckpointIdCounter.open(nc1, subjects, "small");
    assert.equal(await counter.getAndIncrement(), 1);
    assert.equal(await s1.deletePrefix(jobPrefix("small")), 2);
  } finally {
    await nc1.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
