import { test } from "node:test";
import assert from "node:assert/strict";
import { ShortLived } from "../../src/web/short-lived.js";
import { sleep } from "../../src/core/time.js";

test("requests within the moment share one read; a later request reads again", async () => {
  const cache = new ShortLived<string, number>(40);
  let reads = 0;
  const load = async () => ++reads;
  assert.deepEqual(await Promise.all([cache.get("a", load), cache.get("a", load), cache.get("a", load)]), [1, 1, 1]);
  assert.equal(reads, 1);
  await sleep(60);
  assert.equal(await cache.get("a", load), 2, "an answer older than the moment is read again");
});

test("each key has its own answer", async () => {
  const cache = new ShortLived<string, string>(10_000);
  assert.equal(await cache.get("a", async () => "A"), "A");
  assert.equal(await cache.get("b", async () => "B"), "B");
  assert.equal(await cache.get("a", async () => "other"), "A");
});

test("a failed read is not kept: the next request reads again", async () => {
  const cache = new ShortLived<string, string>(10_000);
  await assert.rejects(
    cache.get("a", async () => Promise.reject(new Error("no leader"))),
    /no leader/,
  );
  assert.equal(await cache.get("a", async () => "ok"), "ok");
});

test("clear forgets every answer", async () => {
  const cache = new ShortLived<string, string>(10_000);
  await cache.get("a", async () => "before");
  cache.clear();
  assert.equal(await cache.get("a", async () => "after"), "after");
});

test("a full cache drops what expired, and everything when nothing has", async () => {
  const cache = new ShortLived<number, number>(10_000, 3);
  for (let i = 0; i < 3; i++) await cache.get(i, async () => i);
  await cache.get(3, async () => 3);
  assert.equal(await cache.get(0, async () => -1), -1, "the full cache was emptied before the fourth key");
  assert.equal(await cache.get(3, async () => -3), 3, "the newest key is kept");
});
