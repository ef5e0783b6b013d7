import { test } from "node:test";
import assert from "node:assert/strict";
import { BROADCAST, createPartitioner } from "../../src/network/index.js";
import { keyGroupFor, keyGroupRange, operatorIndexForKey } from "../../src/state/key-groups.js";

const spec = (partitioner: "forward" | "rescale" | "rebalance" | "hash" | "broadcast", n: number, extra: object = {}) => ({
  partitioner,
  numSubpartitions: n,
  partitionIndex: 0,
  maxParallelism: 128,
  consumerParallelism: n,
  ...extra,
});

test("hash: same key → same subpartition, every key group's keys together, inside the consumer's key-group range", () => {
  for (const n of [1, 3, 4, 7]) {
    const p = createPartitioner(spec("hash", n, { key: "k" }));
    const byKey = new Map<string, number>();
    const byGroup = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      const key = `user-${i % 997}`;
      const s = p.select({ k: key, v: i });
      assert.ok(s >= 0 && s < n);
      if (byKey.has(key)) assert.equal(byKey.get(key), s, `key ${key} moved`);
      byKey.set(key, s);
      const kg = keyGroupFor(key, 128);
      if (byGroup.has(kg)) assert.equal(byGroup.get(kg), s, `key group ${kg} split`);
      byGroup.set(kg, s);
      const r = keyGroupRange(128, n, s);
      assert.ok(kg >= r.start && kg <= r.end, `key group ${kg} outside subtask ${s}'s range`);
      assert.equal(s, operatorIndexForKey(key, 128, n));
    }
    if (n > 1) assert.ok(new Set(byKey.values()).size === n, "every subpartition gets keys");
  }
});

test("hash key selectors: array index, object field, whole record", () => {
  const byIndex = createPartitioner(spec("hash", 4, { key: 1 }));
  const byField = createPartitioner(spec("hash", 4, { key: "word" }));
  const whole = createPartitioner(spec("hash", 4));
  for (const w of ["a", "b", "c", "flink", "nats"]) {
    const expected = operatorIndexForKey(w, 128, 4);
    assert.equal(byIndex.select([0, w]), expected);
    assert.equal(byField.select({ word: w, n: 1 }), expected);
    assert.equal(whole.select(w), expected);
  }
});

test("hash by a key selector function: each record goes where its key, as the function gives it, belongs", () => {
  const bySelector = createPartitioner(spec("hash", 4, { key: (r: unknown) => (r as { user: string }).user }));
  for (const w of ["a", "b", "c", "flink", "nats"]) assert.equal(bySelector.select({ user: w, n: 1 }), operatorIndexForKey(w, 128, 4));
});

test("rebalance is even and starts at the producer's partition index; rescale is round robin from 0", () => {
  for (const start of [0, 1, 5]) {
    const p = createPartitioner({ ...spec("rebalance", 4), partitionIndex: start });
    const counts = [0, 0, 0, 0];
    const first = p.select(null);
    assert.equal(first, start % 4);
    counts[first]!++;
    for (let i = 1; i < 40_000; i++) counts[p.select(null)]!++;
    assert.deepEqual(counts, [10_000, 10_000, 10_000, 10_000]);
  }
  const r = createPartitioner(spec("rescale", 3));
  assert.deepEqual(
    [0, 1, 2, 3, 4].map(() => r.select(null)),
    [0, 1, 2, 0, 1],
  );
});

test("forward sends to 0, broadcast to all", () => {
  assert.equal(createPartitioner(spec("forward", 1)).select("x"), 0);
  assert.equal(createPartitioner(spec("broadcast", 5)).select("x"), BROADCAST);
});

test("hash with subpartitions ≠ consumer parallelism is refused", () => {
  assert.throws(() => createPartitioner({ ...spec("hash", 4), consumerParallelism: 3 }), /hash partitioning/);
});

test("one subpartition: every partitioner but broadcast sends every record to 0 without looking at it, and keeps its type", () => {
  for (const type of ["forward", "rescale", "rebalance", "hash"] as const) {
    const p = createPartitioner(spec(type, 1, { key: 0, partitionIndex: 3 }));
    assert.equal(p.type, type);
    // A key no hash accepts: one consumer subtask owns every key group, so the key is not hashed.
    for (const r of [["a", 1], [Symbol("k"), 2], null, 7]) assert.equal(p.select(r), 0);
  }
  assert.equal(createPartitioner(spec("broadcast", 1)).select("x"), BROADCAST);
  // The rules still hold for one subpartition.
  assert.throws(
    () => createPartitioner(spec("hash", 1, { consumerParallelism: 2 })),
    (e: Error & { code?: string }) => e.code === "InvalidParallelism",
  );
  assert.throws(
    () => createPartitioner(spec("hash", 1, { maxParallelism: 0 })),
    (e: Error & { code?: string }) => e.code === "InvalidParallelism",
  );
});
