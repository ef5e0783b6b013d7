import { test } from "node:test";
import assert from "node:assert/strict";
import { DefaultOperatorStateBackend, HeapKeyedStateBackend, evenSplitShare, readSnapshotHeader } from "../../src/state/index.js";
import { ErrorCode } from "../../src/core/errors.js";
import { withCode } from "../helpers/error-code.js";

/** An old subtask's backend with split entries `split` and union entries `union`. */
function old(split: string[], union: string[]): Uint8Array {
  const b = new DefaultOperatorStateBackend();
  b.getListState<string>("offsets").addAll(split);
  b.getUnionListState<string>("watermarks").addAll(union);
  return b.snapshot();
}

const restoreAll = (snaps: Uint8Array[], p: number) => Array.from({ length: p }, (_, i) => DefaultOperatorStateBackend.restore(snaps, i, p));

test("list states: add, addAll, update, clear; a name keeps its mode", () => {
  const b = new DefaultOperatorStateBackend();
  assert.equal(b.isEmpty(), true);
  const l = b.getListState<number>("l");
  assert.equal(b.getListState<number>("l"), l);
  l.add(1);
  l.addAll([2, 3]);
  assert.deepEqual(l.get(), [1, 2, 3]);
  l.update([7]);
  assert.deepEqual(l.get(), [7]);
  assert.equal(b.isEmpty(), false);
  l.clear();
  assert.deepEqual(l.get(), []);
  assert.equal(b.isEmpty(), true);
  assert.throws(() => l.add(null as unknown as number), withCode(ErrorCode.InvalidStateAccess, /not allowed/));
  b.getUnionListState("u");
  assert.throws(() => b.getListState("u"), withCode(ErrorCode.InvalidStateAccess, /UNION list state, it cannot be used as a SPLIT_DISTRIBUTE/));
  assert.throws(() => b.getUnionListState("l"), /SPLIT_DISTRIBUTE list state/);
  assert.deepEqual(b.modes(), { l: "SPLIT_DISTRIBUTE", u: "UNION" });
});

test("snapshot header and round trip at the same parallelism: each subtask keeps its own split entries", () => {
  const snaps = [old(["a0", "a1", "a2"], ["wa"]), old(["b0"], ["wb"])];
  const h = readSnapshotHeader(snaps[0]!);
  assert.equal(h.kind, "operator");
  assert.deepEqual(h.states, [
    { name: "offsets", mode: "SPLIT_DISTRIBUTE" },
    { name: "watermarks", mode: "UNION" },
  ]);
  const [n0, n1] = restoreAll(snaps, 2);
  assert.deepEqual(n0!.getListState("offsets").get(), ["a0", "a1", "a2"]);
  assert.deepEqual(n1!.getListState("offsets").get(), ["b0"]);
  assert.deepEqual(n0!.getUnionListState("watermarks").get(), ["wa", "wb"]);
  assert.deepEqual(n1!.getUnionListState("watermarks").get(), ["wa", "wb"]);
});

test("rescale 2 -> 3: even split in old-subtask order, union everywhere", () => {
  const snaps = [old(["a0", "a1", "a2", "a3", "a4"], ["wa"]), old(["b0", "b1", "b2"], ["wb1", "wb2"])];
  const nu = restoreAll(snaps, 3);
  assert.deepEqual(
    nu.map((b) => b.getListState("offsets").get()),
    [
      ["a0", "a1", "a2"],
      ["a3", "a4", "b0"],
      ["b1", "b2"],
    ],
  );
  for (const b of nu) {
    assert.deepEqual(b.getUnionListState("watermarks").get(), ["wa", "wb1", "wb2"]);
    assert.deepEqual(b.modes(), { offsets: "SPLIT_DISTRIBUTE", watermarks: "UNION" });
  }
  assert.throws(() => nu[0]!.getUnionListState("offsets"), /SPLIT_DISTRIBUTE/, "restored states keep their mode");
});

test("rescale 3 -> 1: everything in old-subtask order", () => {
  const snaps = [old(["a0"], ["wa"]), old([], ["wb"]), old(["c0", "c1"], [])];
  const [b] = restoreAll(snaps, 1);
  assert.deepEqual(b!.getListState("offsets").get(), ["a0", "c0", "c1"]);
  assert.deepEqual(b!.getUnionListState("watermarks").get(), ["wa", "wb"]);
});

test("even split: contiguous shares covering everything, sizes differ by at most one", () => {
  for (let total = 0; total <= 40; total++) {
    for (let p = 1; p <= 9; p++) {
      let next = 0;
      const sizes: number[] = [];
      for (let i = 0; i < p; i++) {
        const { from, to } = evenSplitShare(total, p, i);
        assert.equal(from, next);
        next = to;
        sizes.push(to - from);
      }
      assert.equal(next, total);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    }
  }
  // and through snapshots, with a state that only some old subtasks have
  const a = new DefaultOperatorStateBackend();
  a.getListState<number>("only-a").addAll([1, 2, 3, 4]);
  const nu = restoreAll([a.snapshot(), old(["x"], [])], 3);
  assert.deepEqual(
    nu.map((b) => b.getListState("only-a").get()),
    [[1, 2], [3], [4]],
  );
});

test("restore refuses mixed modes, keyed snapshots and bad subtask indexes", () => {
  const a = new DefaultOperatorStateBackend();
  a.getListState("s").add(1);
  const b = new DefaultOperatorStateBackend();
  b.getUnionListState("s").add(2);
  assert.throws(
    () => DefaultOperatorStateBackend.restore([a.snapshot(), b.snapshot()], 0, 1),
    withCode(ErrorCode.StateCorrupt, /SPLIT_DISTRIBUTE in one snapshot and UNION/),
  );
  const keyed = new HeapKeyedStateBackend({ maxParallelism: 8, keyGroupRange: { start: 0, end: 7 } }).snapshot();
  assert.throws(() => DefaultOperatorStateBackend.restore([keyed], 0, 1), /expected an operator snapshot/);
  assert.throws(() => DefaultOperatorStateBackend.restore([], 2, 2), /subtask index 2/);
  const bad = a.snapshot();
  bad[9] = 7;
  assert.throws(() => DefaultOperatorStateBackend.restore([bad], 0, 1), withCode(ErrorCode.StateCorrupt, /unsupported format version 7/));
  assert.equal(DefaultOperatorStateBackend.restore([], 0, 3).isEmpty(), true);
});
