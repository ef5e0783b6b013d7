import { test } from "node:test";
import assert from "node:assert/strict";
import {
  defaultMaxParallelism,
  keyGroupFor,
  keyGroupRange,
  keyHash,
  murmurHash,
  operatorIndexForKey,
  operatorIndexForKeyGroup,
  rangeContains,
  rangeSize,
} from "../../src/state/key-groups.js";

// An independent rendering of Flink's formulas, in BigInt arithmetic on 32-bit words.
const M32 = (1n << 32n) - 1n;
const u32 = (x: bigint) => x & M32;
const toInt = (x: bigint) => Number(BigInt.asIntN(32, x));
const rotl = (x: bigint, r: bigint) => u32((x << r) | (x >> (32n - r)));
function refMurmur(code: number): number {
  let h = u32(BigInt(code));
  h = u32(h * 0xcc9e2d51n);
  h = rotl(h, 15n);
  h = u32(h * 0x1b873593n);
  h = rotl(h, 13n);
  h = u32(h * 5n + 0xe6546b64n);
  h ^= 4n;
  h ^= h >> 16n;
  h = u32(h * 0x85ebca6bn);
  h ^= h >> 13n;
  h = u32(h * 0xc2b2ae35n);
  h ^= h >> 16n;
  const s = toInt(h);
  return s >= 0 ? s : s === -2147483648 ? 0 : -s;
}
function refStringHash(s: string): number {
  let h = 0n;
  for (const c of s) for (let i = 0; i < c.length; i++) h = u32(h * 31n + BigInt(c.charCodeAt(i)));
  return toInt(h);
}
function refDefaultMax(p: number): number {
  let x = 1;
  while (x < p + Math.floor(p / 2)) x *= 2;
  return Math.min(Math.max(x, 128), 32768);
}

test("murmurHash equals Flink's MathUtils.murmurHash (independent BigInt rendering)", () => {
  const samples = [0, 1, -1, 2, 42, 99162322, 2147483647, -2147483648, 123456789, -987654321];
  for (let i = 0; i < 2000; i++) samples.push((Math.random() * 2 ** 32) | 0);
  for (const s of samples) assert.equal(murmurHash(s), refMurmur(s), `murmurHash(${s})`);
});

test("Integer keys land on the subtasks Flink computes (p=5, maxP=128)", () => {
  // Output of Flink's KeyGroupRangeAssignment.assignKeyToParallelOperator(i, 128, 5) for Integer i = 0..8.
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => operatorIndexForKey(i, 128, 5)),
    [3, 3, 4, 4, 0, 4, 0, 4, 0],
  );
});

test("keyHash follows Java hashCode for strings, ints, longs, doubles, booleans, lists", () => {
  assert.equal(keyHash("hello"), 99162322); // "hello".hashCode()
  assert.equal(keyHash(""), 0);
  for (const s of ["a", "Flink", "日本語", "emoji 😀", "key-17".repeat(20)]) assert.equal(keyHash(s), refStringHash(s), s);
  assert.equal(keyHash(7), 7);
  assert.equal(keyHash(-7), -7);
  assert.equal(keyHash(2 ** 32 + 5), (1 ^ 5) | 0); // Long.hashCode(4294967301L) = 4
  assert.equal(keyHash(-(2 ** 33)), (0 ^ -2) | 0); // Long.hashCode(-8589934592L) = -2
  assert.equal(keyHash(1.5), 1073217536); // Double.hashCode(1.5)
  assert.equal(keyHash(true), 1231);
  assert.equal(keyHash(false), 1237);
  assert.equal(keyHash(null), 0);
  assert.equal(keyHash([1, 2]), 31 * (31 * 1 + 1) + 2); // List.hashCode
  assert.equal(keyHash(5n), 5);
});

test("keyHash of objects is independent of property order and stable", () => {
  assert.equal(keyHash({ a: 1, b: "x" }), keyHash({ b: "x", a: 1 }));
  assert.notEqual(keyHash({ a: 1, b: "x" }), keyHash({ a: 2, b: "x" }));
  assert.equal(keyHash(new Uint8Array([1, 255])), 31 * (31 + 1) - 1);
});

test("keyGroupFor is murmurHash(keyHash) % maxParallelism", () => {
  for (const k of ["a", "b", "user-1", 17, -3, 1.25, [1, "x"]]) {
    for (const maxP of [128, 256, 32768]) {
      assert.equal(keyGroupFor(k, maxP), refMurmur(keyHash(k)) % maxP);
    }
  }
});

test("default max parallelism table", () => {
  const table: Array<[number, number]> = [
    [1, 128],
    [2, 128],
    [64, 128],
    [85, 128],
    [86, 256],
    [100, 256],
    [171, 256],
    [172, 512],
    [1000, 2048],
    [10000, 16384],
    [21846, 32768],
    [32768, 32768],
  ];
  for (const [p, m] of table) assert.equal(defaultMaxParallelism(p), m, `p=${p}`);
  for (let p = 1; p <= 40000; p += 37) assert.equal(defaultMaxParallelism(p), refDefaultMax(p));
});

test("key group ranges partition [0, maxParallelism) and agree with operatorIndexForKeyGroup", () => {
  for (const maxP of [128, 256, 1000, 32768]) {
    for (const p of [1, 2, 3, 5, 7, 10, 64, 127, 128].filter((x) => x <= maxP)) {
      let next = 0;
      for (let i = 0; i < p; i++) {
        const r = keyGroupRange(maxP, p, i);
        assert.equal(r.start, next, `maxP=${maxP} p=${p} i=${i} starts where the previous ended`);
        assert.ok(rangeSize(r) >= Math.floor(maxP / p) && rangeSize(r) <= Math.ceil(maxP / p));
        for (let kg = r.start; kg <= r.end; kg++) assert.equal(operatorIndexForKeyGroup(maxP, p, kg), i);
        next = r.end + 1;
      }
      assert.equal(next, maxP, `maxP=${maxP} p=${p} covers every key group`);
    }
  }
  assert.ok(rangeContains(keyGroupRange(128, 5, 3), keyGroupFor(0, 128)));
  assert.throws(() => keyGroupRange(4, 5, 0), /parallelism/);
});
