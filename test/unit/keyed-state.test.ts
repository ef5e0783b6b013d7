import { test } from "node:test";
import assert from "node:assert/strict";
import {
  HeapKeyedStateBackend,
  KeyedSnapshotReader,
  SNAPSHOT_MAGIC,
  keyGroupFor,
  keyGroupRange,
  operatorIndexForKey,
  readSnapshotHeader,
  snapshotDecodeStats,
  writeOperatorSnapshot,
} from "../../src/state/index.js";
import { ConflictError, ErrorCode } from "../../src/core/errors.js";
import { withCode } from "../helpers/error-code.js";
import { measureKeyedState } from "../bench/state-bench.js";

const MAXP = 128;
const full = () => new HeapKeyedStateBackend({ maxParallelism: MAXP, keyGroupRange: { start: 0, end: MAXP - 1 } });
const sumAgg = {
  createAccumulator: () => ({ n: 0, sum: 0 }),
  add: (v: number, a: { n: number; sum: number }) => ({ n: a.n + 1, sum: a.sum + v }),
  getResult: (a: { n: number; sum: number }) => a.sum / a.n,
};

/** Writes one of everything for `key`, derived from `i`. */
function fill(b: HeapKeyedStateBackend, key: unknown, i: number): void {
  b.setCurrentKey(key);
  b.getValueState<number>("v").update(i);
  b.getListState<number>("l").addAll([i, i + 1]);
  const m = b.getMapState<string | number, number>("m");
  m.put("s", i);
  m.put(i, -i - 1);
  b.getReducingState<number>("r", (a, c) => a + c).add(i);
  b.getReducingState<number>("r", (a, c) => a + c).add(1);
  b.getAggregatingState("a", sumAgg).add(i);
  b.getAggregatingState("a", sumAgg).add(i + 2);
}

/** Checks what {@link fill} wrote for `key`. */
function check(b: HeapKeyedStateBackend, key: unknown, i: number): void {
  b.setCurrentKey(key);
  assert.equal(b.getValueState<number>("v").value(), i, `value of ${JSON.stringify(key)}`);
  assert.deepEqual(b.getListState<number>("l").get(), [i, i + 1]);
  const m = b.getMapState<string | number, number>("m");
  assert.deepEqual(
    [...m.entries()],
    [
      ["s", i],
      [i, -i - 1],
    ],
  );
  assert.equal(b.getReducingState<number>("r", (a, c) => a + c).get(), i + 1);
  assert.equal(b.getAggregatingState("a", sumAgg).get(), i + 1);
}

test("value, list, map, reducing and aggregating state per key, isolated between keys and states", () => {
  const b = full();
  const v = b.getValueState<string>("v");
  const v2 = b.getValueState<string>("v2");
  b.setCurrentKey("a");
  v.update("A");
  v2.update("other");
  b.setCurrentKey("b");
  assert.equal(v.value(), undefined);
  v.update("B");
  b.setCurrentKey("a");
  assert.equal(v.value(), "A");
  assert.equal(v2.value(), "other");

  const l = b.getListState<number>("l");
  assert.deepEqual(l.get(), []);
  l.add(1);
  l.addAll([2, 3]);
  assert.deepEqual(l.get(), [1, 2, 3]);
  l.update([9]);
  assert.deepEqual(l.get(), [9]);
  assert.throws(() => l.add(undefined as unknown as number), withCode(ErrorCode.InvalidStateAccess, /not allowed/));

  const m = b.getMapState<string, number>("m");
  assert.equal(m.isEmpty(), true);
  m.put("x", 1);
  m.put("y", 2);
  assert.equal(m.get("x"), 1);
  assert.equal(m.contains("y"), true);
  assert.deepEqual([...m.keys()], ["x", "y"]);
  assert.deepEqual([...m.values()], [1, 2]);
  assert.equal(m.remove("x"), true, "remove says whether there was an entry");
  assert.equal(m.remove("x"), false);
  assert.deepEqual([...m.entries()], [["y", 2]]);

  const r = b.getReducingState<number>("r", Math.max);
  r.add(3);
  r.add(7);
  r.add(5);
  assert.equal(r.get(), 7);
  const a = b.getAggregatingState("a", sumAgg);
  a.add(2);
  a.add(4);
  assert.equal(a.get(), 3);

  b.setCurrentKey("b");
  assert.deepEqual(l.get(), []);
  assert.equal(m.isEmpty(), true);
  assert.equal(r.get(), undefined);
  assert.equal(a.get(), undefined);
  assert.equal(b.numKeys(), 2);
});

test("map state putIfAbsent puts only where the current key has no entry, and says whether it put", () => {
  const b = full();
  const m = b.getMapState<string, number>("m");
  b.setCurrentKey("a");
  assert.equal(m.putIfAbsent("x", 1), true, "no map for the key yet");
  assert.equal(m.putIfAbsent("x", 2), false);
  assert.equal(m.putIfAbsent("y", 3), true, "the key's map exists, the entry not");
  assert.deepEqual(
    [...m.entries()],
    [
      ["x", 1],
      ["y", 3],
    ],
  );
  b.setCurrentKey("b");
  assert.equal(m.putIfAbsent("x", 4), true, "another key's entries are its own");
  assert.equal(m.get("x"), 4);
  m.remove("x");
  assert.equal(m.putIfAbsent("x", 5), true, "after a remove the entry is absent again");
  b.setCurrentKey("a");
  assert.equal(m.get("x"), 1);
});

test("clear and emptying remove a key's entries entirely", () => {
  const b = full();
  fill(b, "k", 1);
  assert.equal(b.numKeys(), 1);
  b.getValueState("v").clear();
  b.getListState("l").update([]);
  const m = b.getMapState<string | number, number>("m");
  m.remove("s");
  m.remove(1);
  assert.equal(m.isEmpty(), true);
  b.getReducingState<number>("r", (x, y) => x + y).clear();
  assert.equal(b.numKeys(), 1);
  b.getAggregatingState("a", sumAgg).clear();
  assert.equal(b.numKeys(), 0);
  assert.equal(b.isEmpty(), true);
  b.getValueState<number | null>("v").update(5);
  b.getValueState<number | null>("v").update(null);
  assert.equal(b.numKeys(), 0, "update(null) clears like Flink");
  const snap = b.snapshot();
  const r = new KeyedSnapshotReader(snap);
  for (let kg = 0; kg < MAXP; kg++) assert.equal(r.groupBytes(kg).length, 0);
});

test("keys of different types never collide; composite keys are canonical", () => {
  const b = full();
  const v = b.getValueState<string>("v");
  const keys: unknown[] = ["1", 1, true, "true", null, [1, "a"], '[1,"a"]', '\0[1,"a"]', { x: 1, y: [true] }, ""];
  keys.forEach((k, i) => {
    b.setCurrentKey(k);
    v.update(`v${i}`);
  });
  assert.equal(b.numKeys(), keys.length);
  b.setCurrentKey([1, "a"]);
  assert.equal(v.value(), "v5");
  b.setCurrentKey({ y: [true], x: 1 });
  assert.equal(v.value(), "v8", "property order does not matter");
  const r = full();
  r.restore([b.snapshot()]);
  keys.forEach((k, i) => {
    r.setCurrentKey(k);
    assert.equal(r.getValueState<string>("v").value(), `v${i}`, `key ${JSON.stringify(k)}`);
  });
  const str = (ks: Iterable<unknown>) => new Set([...ks].map((k) => JSON.stringify(k)));
  assert.deepEqual(str(r.keys("v")), str(keys), "snapshots hold the original keys");
  assert.throws(() => b.setCurrentKey([Number.NaN]), withCode(ErrorCode.InvalidStateAccess, /composite state key/));
  assert.throws(() => b.setCurrentKey(Symbol("x")), withCode(ErrorCode.InvalidStateAccess, /cannot be a symbol/));
});

test("handles are cached; a name keeps its kind; keys outside the range and missing keys are refused", () => {
  const b = new HeapKeyedStateBackend({ maxParallelism: MAXP, keyGroupRange: keyGroupRange(MAXP, 2, 0) });
  assert.equal(b.getValueState("s"), b.getValueState("s"));
  assert.throws(
    () => b.getListState("s"),
    (e: unknown) => e instanceof ConflictError && withCode(ErrorCode.InvalidStateAccess, /value state, it cannot be used as a list/)(e),
  );
  assert.throws(() => b.getValueState("s").value(), /no current key/);
  let outside = 0;
  while (operatorIndexForKey(`k${outside}`, MAXP, 2) === 0) outside++;
  assert.throws(() => b.setCurrentKey(`k${outside}`), /outside this subtask's range \[0, 63\].*partitioned wrongly/);
  assert.throws(() => new HeapKeyedStateBackend({ maxParallelism: 0, keyGroupRange: { start: 0, end: 0 } }), /max parallelism/);
  assert.throws(() => new HeapKeyedStateBackend({ maxParallelism: 8, keyGroupRange: { start: 4, end: 8 } }), /key-group range/);
});

test("snapshot and restore round trip of every state type", () => {
  const b = full();
  for (let i = 0; i < 500; i++) fill(b, i % 2 ? `key-${i}` : [i, "x"], i);
  const bytes = b.snapshot();
  const h = readSnapshotHeader(bytes);
  assert.equal(h.kind, "keyed");
  assert.deepEqual(h.kind === "keyed" && h.states, [
    { name: "v", type: "value" },
    { name: "l", type: "list" },
    { name: "m", type: "map" },
    { name: "r", type: "reducing" },
    { name: "a", type: "aggregating" },
  ]);
  const r = full();
  r.restore([bytes]);
  assert.equal(r.numKeys(), 500);
  for (let i = 0; i < 500; i++) check(r, i % 2 ? `key-${i}` : [i, "x"], i);
  assert.throws(() => r.getListState("v"), /value state/, "restored states keep their type");
  assert.deepEqual(r.snapshot(), bytes, "a restored backend writes the same bytes");
});

test("rescaling: state of parallelism 2 restored at 1, 3 and 4 lands exactly once, where its key group is owned", () => {
  const N = 3000;
  const key = (i: number) => (i % 3 === 0 ? i : `user-${i}`);
  const old = [0, 1].map((i) => new HeapKeyedStateBackend({ maxParallelism: MAXP, keyGroupRange: keyGroupRange(MAXP, 2, i) }));
  for (let i = 0; i < N; i++) fill(old[operatorIndexForKey(key(i), MAXP, 2)]!, key(i), i);
  const snaps = old.map((b) => b.snapshot());
  for (const p of [1, 3, 4]) {
    const nu = Array.from({ length: p }, (_, i) => new HeapKeyedStateBackend({ maxParallelism: MAXP, keyGroupRange: keyGroupRange(MAXP, p, i) }));
    nu.forEach((b) => b.restore(snaps));
    assert.equal(
      nu.reduce((s, b) => s + b.numKeys(), 0),
      N,
      `p=${p}: total keys`,
    );
    const where = new Map<string, number>();
    nu.forEach((b, idx) => {
      for (const k of b.keys("v")) {
        assert.equal(where.has(JSON.stringify(k)), false, `p=${p}: ${String(k)} restored twice`);
        where.set(JSON.stringify(k), idx);
        const kg = keyGroupFor(k, MAXP);
        assert.ok(kg >= b.keyGroupRange.start && kg <= b.keyGroupRange.end);
      }
    });
    for (let i = 0; i < N; i++) {
      const owner = operatorIndexForKey(key(i), MAXP, p);
      assert.equal(where.get(JSON.stringify(key(i))), owner, `p=${p}: key ${key(i)}`);
      check(nu[owner]!, key(i), i);
    }
  }
});

test("restore refuses another max parallelism and overlapping snapshots", () => {
  const b = full();
  fill(b, "x", 1);
  const snap = b.snapshot();
  const other = new HeapKeyedStateBackend({ maxParallelism: 256, keyGroupRange: { start: 0, end: 255 } });
  assert.throws(() => other.restore([snap]), /max parallelism 128 into max parallelism 256/);
  assert.throws(() => full().restore([snap, snap]), withCode(ErrorCode.StateCorrupt, /appears in two of the snapshots/));
});

test("format header: magic, version, kind and length are checked", () => {
  const b = full();
  fill(b, "x", 1);
  const snap = b.snapshot();
  assert.equal(new TextDecoder().decode(snap.subarray(0, 9)), SNAPSHOT_MAGIC);
  assert.equal(snap[9], 2);
  const bad = snap.slice();
  bad[0] = 0x58;
  assert.throws(() => full().restore([bad]), withCode(ErrorCode.StateCorrupt, /bad magic/));
  const v3 = snap.slice();
  v3[9] = 3;
  assert.throws(() => full().restore([v3]), /unsupported format version 3: this build reads versions 1 and 2/);
  const k = snap.slice();
  k[10] = 9;
  assert.throws(() => readSnapshotHeader(k), /unknown snapshot kind 9/);
  assert.throws(() => full().restore([snap.subarray(0, snap.length - 1)]), withCode(ErrorCode.StateCorrupt, /length mismatch/));
  assert.throws(() => full().restore([snap.subarray(0, 10)]), /too short/);
  assert.throws(() => full().restore([writeOperatorSnapshot([], [])]), /expected a keyed snapshot/);
});

/** The same snapshot in the version 1 layout (offset index before the sections, relative to the data start). */
function toVersion1(v2: Uint8Array): Uint8Array {
  const h = readSnapshotHeader(v2);
  assert.equal(h.kind, "keyed");
  const groups = h.kind === "keyed" ? h.keyGroupRange.end - h.keyGroupRange.start + 1 : 0;
  const indexBytes = 4 * (groups + 1);
  const out = new Uint8Array(v2.length);
  out.set(v2.subarray(0, h.bodyOffset));
  out[9] = 1;
  out.set(v2.subarray(v2.length - indexBytes), h.bodyOffset);
  out.set(v2.subarray(h.bodyOffset, v2.length - indexBytes), h.bodyOffset + indexBytes);
  return out;
}

test("format version 1 snapshots (index first) are still read, whole and by key group", () => {
  const b = full();
  for (let i = 0; i < 300; i++) fill(b, `key-${i}`, i);
  const v1 = toVersion1(b.snapshot());
  assert.equal(v1[9], 1);
  const r = full();
  r.restore([v1]);
  assert.equal(r.numKeys(), 300);
  for (let i = 0; i < 300; i++) check(r, `key-${i}`, i);
  const part = new HeapKeyedStateBackend({ maxParallelism: MAXP, keyGroupRange: keyGroupRange(MAXP, 4, 2) });
  part.restore([v1]);
  for (let i = 0; i < 300; i++) if (operatorIndexForKey(`key-${i}`, MAXP, 4) === 2) check(part, `key-${i}`, i);
  assert.deepEqual(r.snapshot(), b.snapshot(), "restored from version 1, written as version 2");
  assert.throws(() => full().restore([v1.subarray(0, v1.length - 3)]), /length mismatch|runs past/);
});

test("a copy-on-write snapshot never sees writes made after it was taken, while it is serialized piece by piece", () => {
  type Acc = { n: number; sum: number };
  // Both functions change their accumulator in place, as Flink's often do.
  const inPlace = { createAccumulator: (): Acc => ({ n: 0, sum: 0 }), add: (v: number, a: Acc) => ((a.n += 1), (a.sum += v), a), getResult: (a: Acc) => a.sum };
  const mergeInPlace = (a: Acc, c: Acc) => ((a.n += c.n), (a.sum += c.sum), a);
  const b = full();
  const write = (key: string, i: number) => {
    b.setCurrentKey(key);
    b.getValueState<{ x: number[] }>("obj").update({ x: [i] });
    b.getListState<number>("l").add(i);
    b.getMapState<string, { deep: number[] }>("m").put(`k${i % 3}`, { deep: [i] });
    b.getReducingState<Acc>("r", mergeInPlace).add({ n: 1, sum: i });
    b.getAggregatingState("a", inPlace).add(i);
  };
  for (let i = 0; i < 2000; i++) write(`key-${i % 700}`, i);
  const expected = b.snapshot();
  const snap = b.snapshotAsync();
  const pieces: Uint8Array[] = [];
  let round = 0;
  for (let p = snap.read(2048); p !== null; p = snap.read(2048)) {
    pieces.push(...p);
    // Between pieces, change every kind of state in place, clear keys, add keys, add a state.
    for (let i = 0; i < 50; i++) {
      const key = `key-${(round * 50 + i) % 700}`;
      // The first change to this key's map since the snapshot, present and absent entries alike.
      b.setCurrentKey(key);
      b.getMapState<string, unknown>("m").putIfAbsent("k0", { deep: [-3] });
      b.getMapState<string, unknown>("m").putIfAbsent(`p${round}`, { deep: [i] });
      write(key, 10_000 + i);
      b.setCurrentKey(key);
      b.getValueState<{ x: number[] }>("obj").value()!.x.push(-1);
      b.getMapState<string, { deep: number[] }>("m").get("k0")?.deep.push(-1);
      if (i % 7 === 0) b.getListState<number>("l").clear();
      if (i % 11 === 0) b.getMapState<string, unknown>("m").remove("k1");
      b.setCurrentKey(`new-${round}-${i}`);
      b.getMapState<string, unknown>("m").putIfAbsent("k0", { deep: [] });
      b.getValueState<{ x: number[] }>("obj").update({ x: [] });
      b.getValueState<number>(`late-${round % 3}`).update(i);
    }
    round++;
  }
  assert.ok(round > 10, `read in ${round} pieces`);
  assert.deepEqual(Buffer.from(concat(pieces)), Buffer.from(expected), "the snapshot holds the state as it was when taken");
  // The live state has every change.
  b.setCurrentKey("key-0");
  assert.equal(b.getValueState<{ x: number[] }>("obj").value()!.x.at(-1), -1);
  b.setCurrentKey(`new-0-1`);
  assert.deepEqual(b.getValueState<{ x: number[] }>("obj").value(), { x: [] });
  const tables = (b as unknown as { tables: Map<string, { frozen: unknown[] }> }).tables;
  for (const t of tables.values()) assert.equal(t.frozen.length, 0, "a snapshot read to the end stops the copying");
  // A canceled snapshot fails its reader and stops the copying too.
  const c = b.snapshotAsync();
  c.read(1);
  c.cancel("checkpoint aborted");
  assert.throws(() => c.read(1), /snapshot canceled: checkpoint aborted/);
  for (const t of tables.values()) assert.equal(t.frozen.length, 0);
});

function concat(pieces: Uint8Array[]): Uint8Array {
  return Buffer.concat(pieces);
}

test("restore decodes only the key groups it needs", () => {
  const b = full();
  for (let i = 0; i < 20_000; i++) fill(b, `key-${i}`, i);
  const snap = b.snapshot();
  const before = { ...snapshotDecodeStats };
  const part = new HeapKeyedStateBackend({ maxParallelism: MAXP, keyGroupRange: { start: 5, end: 6 } });
  part.restore([snap]);
  const groups = snapshotDecodeStats.keyGroupsDecoded - before.keyGroupsDecoded;
  const bytes = snapshotDecodeStats.bytesDecoded - before.bytesDecoded;
  assert.equal(groups, 2);
  assert.ok(bytes < snap.length / 40, `decoded ${bytes} of ${snap.length} bytes`);
  for (let i = 0; i < 20_000; i++) {
    const kg = keyGroupFor(`key-${i}`, MAXP);
    if (kg === 5 || kg === 6) check(part, `key-${i}`, i);
  }
  const none = new HeapKeyedStateBackend({ maxParallelism: MAXP, keyGroupRange: keyGroupRange(MAXP, 2, 1) });
  const prior = snapshotDecodeStats.keyGroupsDecoded;
  none.restore([new HeapKeyedStateBackend({ maxParallelism: MAXP, keyGroupRange: keyGroupRange(MAXP, 2, 0) }).snapshot()]);
  assert.equal(snapshotDecodeStats.keyGroupsDecoded, prior, "a snapshot whose range does not overlap is not decoded");
});

test("snapshots of about 1 MB and 100 MB are built, taken and restored quickly", (t) => {
  for (const mb of [1, 100]) {
    const r = measureKeyedState(mb * 1024 * 1024);
    assert.ok(Math.abs(r.bytes - mb * 1048576) < mb * 1048576 * 0.05, `size ${r.bytes}`);
    const rate = (ms: number) => (r.bytes / 1048576 / (ms / 1000)).toFixed(0);
    t.diagnostic(
      `${(r.bytes / 1048576).toFixed(1)} MB (${r.keys} keys): fill ${r.fillMs.toFixed(0)} ms, snapshot ${r.snapshotMs.toFixed(0)} ms (${rate(r.snapshotMs)} MB/s), ` +
        `restore ${r.restoreMs.toFixed(0)} ms (${rate(r.restoreMs)} MB/s), one key group of 128: ${r.restoreOneGroupMs.toFixed(1)} ms`,
    );
    assert.ok(r.snapshotMs < 10_000 && r.restoreMs < 15_000);
  }
});
