/**
 * DATA frames of the current layout version with watermarks between their records (round trips of
 * mixed record shapes, watermarks at a buffer's start, middle and end and several in a row, more than
 * fit msgpackr's reserved space, the bound per frame, malformed counts), splitting watermarks with the
 * records, and handing a batch with watermarks out one element at a time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeRecords,
  decodeWatermarks,
  encodeDataFrame,
  FRAME_HEADER_BYTES,
  FRAME_VERSION,
  frameBacklog,
  frameChannel,
  frameKind,
  FrameKind,
  frameSeq,
  frameVersion,
  MAX_FRAME_WATERMARKS,
} from "../../src/network/frame.js";
import { BatchPart, checkMarks, splitMarks, WatermarkSplitter } from "../../src/core/watermark-marks.js";
import type { InputBatch } from "../../src/core/stream-events.js";

const mixed = [["w", 1], { k: "x", v: [1.5, null, true] }, "plain", 42, -0.25, [["nested"], { a: 1 }], 1_700_000_000_123];

test("DATA frames round-trip records of mixed shapes with watermarks at a buffer's start, middle and end, several in a row", () => {
  const cases: Array<number[] | undefined> = [
    undefined,
    [0, 5],
    [3, 1_700_000_000_000],
    [mixed.length, 9],
    [0, -Infinity, 0, 1, 2, 2, 2, 3, mixed.length, Infinity],
  ];
  for (const marks of cases) {
    const f = encodeDataFrame(7, 9, mixed, 3, marks);
    assert.deepEqual([frameVersion(f), frameKind(f), frameChannel(f), frameSeq(f), frameBacklog(f)], [FRAME_VERSION, FrameKind.Data, 7, 9, 3]);
    assert.deepEqual(decodeRecords(f), mixed);
    assert.deepEqual(decodeWatermarks(f), marks);
  }
  assert.deepEqual(decodeRecords(encodeDataFrame(0, 0, [], 0, [0, 4])), [], "a buffer of watermarks only");
  assert.deepEqual(decodeWatermarks(encodeDataFrame(0, 0, [], 0, [0, 4])), [0, 4]);
});

test("DATA frames carry more watermarks than fit the reserved space (copied once), up to the bound per frame", () => {
  const records = Array.from({ length: 50 }, (_, i) => [`k${i}`, i]);
  for (const n of [20, 21, 22, MAX_FRAME_WATERMARKS]) {
    const marks = Array.from({ length: n }, (_, i) => [Math.min(i, 50), 1000 + i]).flat();
    const f = encodeDataFrame(1, 2, records, 0, marks);
    assert.deepEqual(decodeRecords(f), records, `${n} watermarks`);
    assert.deepEqual(decodeWatermarks(f), marks);
    assert.equal(frameSeq(f), 2);
  }
  const tooMany = Array.from({ length: MAX_FRAME_WATERMARKS + 1 }, (_, i) => [0, i]).flat();
  assert.throws(() => encodeDataFrame(0, 0, [], 0, tooMany), /at most 1024 watermarks/);
});

test("a DATA frame whose watermark count runs past its end does not decode", () => {
  const f = encodeDataFrame(0, 0, ["a"], 0, [1, 5]);
  const cut = f.subarray(0, FRAME_HEADER_BYTES + 2 + 6);
  assert.throws(() => decodeWatermarks(cut), /shorter than its 1 watermarks/);
  assert.throws(() => decodeWatermarks(f.subarray(0, FRAME_HEADER_BYTES + 1)), /shorter than its watermark count/);
});

test("watermarks out of place are refused, naming where they came from", () => {
  checkMarks([0, 1, 2, 2, 2, 3], 2, "here");
  assert.throws(() => checkMarks([2, 1, 1, 2], 3, "channel c"), /channel c: watermark 1 \(2 after record 1\) is out of place in a buffer of 3 records/);
  assert.throws(() => checkMarks([4, 1], 3, "c"), /out of place/);
  assert.throws(() => checkMarks([0, Number.NaN], 3, "c"), /NaN/);
  assert.throws(() => checkMarks([0.5, 1], 3, "c"), /out of place/);
});

test("splitting a buffer keeps each watermark between the same records; one at the cut stays with the first part", () => {
  assert.deepEqual(splitMarks(undefined, 4), [undefined, undefined]);
  assert.deepEqual(splitMarks([0, 1, 4, 2, 4, 3, 5, 4, 8, 5], 4), [
    [0, 1, 4, 2, 4, 3],
    [1, 4, 4, 5],
  ]);
  assert.deepEqual(splitMarks([6, 1], 4), [undefined, [2, 1]]);
  assert.deepEqual(splitMarks([0, 1], 4), [[0, 1], undefined]);
});

test("a batch with watermarks is handed out in parts; the whole is recycled with its last records", () => {
  const recycled: InputBatch[] = [];
  const recycle = (b: InputBatch) => recycled.push(b);
  const s = new WatermarkSplitter();
  const plain: InputBatch = { gate: 1, channel: 2, records: ["a"] };
  assert.equal(s.start(plain, recycle), plain, "a batch without watermarks goes as it is");
  assert.equal(s.next(), null);
  const whole: InputBatch = { gate: 1, channel: 2, records: ["a", "b", "c"], watermarks: [0, 10, 2, 11, 2, 12, 3, 13] };
  const parts = [s.start(whole, recycle)];
  for (let p = s.next(); p !== null; p = s.next()) parts.push(p);
  const shown = parts.map((p) => ("watermark" in p ? `W${p.watermark}` : (p as InputBatch).records.join("")));
  assert.deepEqual(shown, ["W10", "ab", "W11", "W12", "c", "W13"]);
  const batches = parts.filter((p): p is BatchPart => p instanceof BatchPart);
  assert.ok(batches.every((b) => b.gate === 1 && b.channel === 2 && b.watermarks === undefined));
  WatermarkSplitter.recycle(batches[0]!, recycle);
  assert.deepEqual(recycled, [], "not before its last records were processed");
  WatermarkSplitter.recycle(batches[1]!, recycle);
  assert.deepEqual(recycled, [whole]);
  const onlyMarks: InputBatch = { gate: 0, channel: 0, records: [], watermarks: [0, 5, 0, 6] };
  assert.deepEqual(s.start(onlyMarks, recycle), { watermark: 5 });
  assert.deepEqual(recycled, [whole, onlyMarks], "a batch of watermarks only is recycled at once");
  assert.deepEqual(s.next(), { watermark: 6 });
  assert.equal(s.next(), null);
});
