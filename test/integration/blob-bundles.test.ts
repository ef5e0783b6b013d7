/**
 * The bundle store and cache over a real nats-server: content addressing (an upload of stored bytes
 * is skipped), the store's refusal of missing and tampered bundles, and the cache's verification
 * (a tampered bundle is refused and never cached), deduplication of concurrent fetches, cache hits
 * and cleanup on close.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { EddyError, ErrorCode } from "../../src/core/errors.js";
import { BundleCache, BundleStore, bundleIdOf, bundleRefOf, checkBundleRef } from "../../src/blob/index.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";

let nats: TestNats;
let nc: NatsConnection;
const subjects = new Subjects("eddy-test-blob");
let store: BundleStore;

before(async () => {
  nats = await startTestNats({ jetstream: true });
  nc = await connectNats(nats.url, "blob-test");
  store = await BundleStore.open(nc, subjects);
});
after(async () => {
  await nc.close();
  await nats.stop();
});

const code = (n: number) => new TextEncoder().encode(`export default () => ({ name: "job ${n}", vertices: [], edges: [] });\n// ${"x".repeat(n)}\n`);
const hasCode = (c: string) => (e: unknown) => e instanceof EddyError && e.code === c;

/** Stores `bytes` under `name` bypassing the store's content addressing (what a tamperer would do). */
async function putRaw(name: string, bytes: Uint8Array): Promise<void> {
  const os = await new Objm(nc).open(subjects.bucket("bundles"));
  await os.putBlob({ name }, bytes);
}

test("a bundle is stored under the SHA-256 of its bytes, and an upload of stored bytes is skipped", async () => {
  const bytes = code(10);
  const first = await store.put(bytes);
  assert.equal(first.ref.id, bundleIdOf(bytes));
  assert.match(first.ref.id, /^[0-9a-f]{64}$/);
  assert.equal(first.ref.size, bytes.byteLength);
  assert.equal(first.uploaded, true);
  const uploads = store.uploads;
  const again = await store.put(bytes);
  assert.deepEqual(again, { ref: first.ref, uploaded: false });
  assert.equal(store.uploads, uploads, "nothing was sent the second time");
  await store.check(first.ref);
  assert.deepEqual(new Uint8Array(await store.read(first.ref)), bytes);
});

test("the store refuses a missing bundle (BundleNotFound) and one whose bytes do not match its id (BundleCorrupt)", async () => {
  const missing = bundleRefOf(code(20));
  await assert.rejects(store.check(missing), hasCode(ErrorCode.BundleNotFound));
  await assert.rejects(store.read(missing), hasCode(ErrorCode.BundleNotFound));
  // Other bytes stored under the id of `wanted`.
  const wanted = bundleRefOf(code(21));
  const evil = code(22);
  await putRaw(wanted.id, evil);
  await assert.rejects(store.check(wanted), hasCode(ErrorCode.BundleCorrupt));
  await assert.rejects(store.check({ id: wanted.id, size: evil.byteLength }), hasCode(ErrorCode.BundleCorrupt), "right size, wrong digest");
  // put() repairs it: the stored object is not sound, so the real bytes are uploaded.
  const r = await store.put(code(21));
  assert.equal(r.uploaded, true);
  await store.check(wanted);
});

test("bundle refs from outside are checked: malformed ids and sizes are MalformedRequest", () => {
  const ok = bundleRefOf(code(1));
  assert.deepEqual(checkBundleRef(ok), ok);
  for (const bad of [null, {}, { id: "abc", size: 1 }, { id: ok.id.toUpperCase(), size: 1 }, { id: ok.id, size: 0 }, { id: ok.id, size: 1.5 }, { id: ok.id }])
    assert.throws(() => checkBundleRef(bad), hasCode("MalformedRequest"), JSON.stringify(bad));
});

test("the cache fetches a bundle once for concurrent requests, then answers from disk, and removes its directory on close", async () => {
  const bytes = code(30);
  const { ref } = await store.put(bytes);
  const readsBefore = store.reads;
  const cache = new BundleCache(() => BundleStore.open(nc, subjects));
  const paths = await Promise.all(Array.from({ length: 8 }, () => cache.get(ref)));
  assert.equal(new Set(paths).size, 1);
  assert.deepEqual(cache.stats, { fetches: 1, hits: 0, joined: 7, failures: 0 });
  const path = paths[0]!;
  assert.ok(path.endsWith(`${ref.id}.mjs`));
  assert.deepEqual(new Uint8Array(readFileSync(path)), bytes);
  // A later task of the same bundle: a hit, nothing read from the store.
  assert.equal(await cache.get(ref), path);
  assert.equal(cache.stats.hits, 1);
  assert.equal(cache.stats.fetches, 1);
  const dir = await cache.directory();
  assert.ok(dir && existsSync(dir));
  await cache.close();
  assert.equal(existsSync(dir), false, "the cache directory is gone");
  await assert.rejects(cache.get(ref), hasCode("Shutdown"));
  // The cache's own store connection counted one read; ours saw none.
  assert.equal(store.reads, readsBefore);
});

test("the cache refuses a tampered bundle with BundleCorrupt, caches nothing, and fetches the repaired one", async () => {
  const good = code(40);
  const ref = bundleRefOf(good);
  // Same size, other content: passes the store's size check, fails the hash.
  const evil = new Uint8Array(good);
  evil[evil.length - 2] = "y".charCodeAt(0);
  await putRaw(ref.id, evil);
  const cache = new BundleCache(() => BundleStore.open(nc, subjects), { name: "eddy-test-bundles-" });
  try {
    await assert.rejects(cache.get(ref), (e: unknown) => hasCode(ErrorCode.BundleCorrupt)(e) && /hash to/.test((e as Error).message));
    assert.equal(cache.has(ref.id), false);
    const dir = await cache.directory();
    assert.deepEqual(dir && existsSync(dir) ? readdirSync(dir) : [], [], "no file, not even a partial one, was kept");
    assert.equal(cache.stats.failures, 1);
    await store.put(good);
    const path = await cache.get(ref);
    assert.deepEqual(new Uint8Array(readFileSync(path)), good);
    assert.equal(cache.stats.fetches, 2);
  } finally {
    await cache.close();
  }
});

test("the cache answers BundleNotFound for a bundle nobody uploaded", async () => {
  const cache = new BundleCache(() => BundleStore.open(nc, subjects));
  try {
    await assert.rejects(cache.get(bundleRefOf(code(50))), hasCode(ErrorCode.BundleNotFound));
  } finally {
    await cache.close();
  }
});
