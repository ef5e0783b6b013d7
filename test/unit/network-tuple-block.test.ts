/**
 * DATA frames of layout version 2: records as a tuple block (arrays of one shape of ASCII strings and
 * numbers) or as msgpack (anything else), told apart by the layout byte. Round trips of every column
 * kind and width, shapes that fall back to msgpack, watermarks between tuple records, strings and
 * buffers at the block's limits, and malformed blocks refused with InternalError.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeRecords, decodeWatermarks, encodeDataFrame, FRAME_HEADER_BYTES, FRAME_VERSION, frameVersion } from "../../src/network/frame.js";
import { MAX_TUPLE_ARITY } from "../../src/network/tuple-block.js";
import { EddyError, ErrorCode } from "../../src/core/errors.js";

/** The layout byte of a DATA frame with `marks` watermarks: 0 msgpack, 1 tuple block. */
const layoutOf = (f: Uint8Array, marks = 0) => f[FRAME_HEADER_BYTES + 2 + 12 * marks];
const TUPLES = 1;
const MSGPACK = 0;

function roundTrip(records: unknown[], marks?: number[]): Uint8Array {
  const f = encodeDataFrame(3, 4, records, 0, marks);
  assert.equal(frameVersion(f), FRAME_VERSION);
  assert.deepEqual(decodeRecords(f), records);
  assert.deepEqual(decodeWatermarks(f), marks);
  return f;
}

test("the frame layout version is 2: records travel as a tuple block or as msgpack", () => {
  assert.equal(FRAME_VERSION, 2);
});

test("tuple records round-trip as a tuple block: strings, and numbers at every width", () => {
  const words = Array.from({ length: 1000 }, (_, i) => [`w${i.toString(36)}`, 1]);
  assert.equal(layoutOf(roundTrip(words)), TUPLES);
  const widths: unknown[][] = [
    [0, 127, -128], // i8
    [128, -129, 32767, -32768], // i16
    [32768, -32769, 2147483647, -2147483648], // i32
    [2147483648, -0, 1.5, Number.NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, 2 ** 60, 5e-324], // f64
  ];
  for (const col of widths) {
    const f = roundTrip(col.map((v, i) => [v, `k${i}`, i]));
    assert.equal(layoutOf(f), TUPLES);
    const back = decodeRecords(f) as number[][];
    for (let i = 0; i < col.length; i++) assert.ok(Object.is(back[i]![0], col[i]), `${String(col[i])} keeps its identity (-0, NaN)`);
  }
  assert.equal(layoutOf(roundTrip([["only"], [""], ["x"]])), TUPLES, "one field, empty strings");
  const wide = Array.from({ length: 5 }, (_, i) => Array.from({ length: MAX_TUPLE_ARITY }, (_, j) => (j % 2 ? `s${i}${j}` : i * j)));
  assert.equal(layoutOf(roundTrip(wide)), TUPLES, `${MAX_TUPLE_ARITY} fields`);
  assert.equal(layoutOf(roundTrip([[1, 2]])), TUPLES, "a single record");
});

test("records of any other shape travel as msgpack, unchanged", () => {
  const cases: unknown[][] = [
    [
      ["w", 1],
      ["x", 2, 3],
    ], // lengths differ
    [
      ["w", 1],
      [2, "x"],
    ], // column types differ
    [["w", 1], { 0: "x", 1: 2 }], // not an array
    [["w", null]],
    [["w", undefined]],
    [[true, 1]],
    [[["nested"], 1]],
    [["héllo", 1]], // not ASCII
    [[]],
    [Array.from({ length: MAX_TUPLE_ARITY + 1 }, (_, i) => i)],
    ["plain", 42, null, { k: "x", v: [1.5, null, true] }, [["nested"], { a: 1 }]],
    [undefined, null],
    [["x".repeat(65_536), 1]], // longer than a column's u16 length
    Array.from({ length: 17 }, (_, i) => [`${i}`.padEnd(65_535, "y"), i]), // a string column of more than 1 MiB
  ];
  for (const records of cases) {
    const f = encodeDataFrame(0, 0, records);
    assert.equal(layoutOf(f), MSGPACK, `case ${cases.indexOf(records)}`);
    assert.deepEqual(decodeRecords(f), records);
  }
  assert.equal(layoutOf(encodeDataFrame(0, 0, [["\ud800", 1]])), MSGPACK, "a lone surrogate (which msgpack's UTF-8 does not keep either)");
  assert.equal(layoutOf(roundTrip([], [0, 5]), 1), MSGPACK, "a buffer of watermarks only");
});

test("watermarks between tuple records, at the start, middle and end, several in a row, beyond the reserved space", () => {
  const records = Array.from({ length: 50 }, (_, i) => [`key${i}`, i * 1000]);
  const cases = [
    [0, 5],
    [25, 1_700_000_000_000],
    [50, 9],
    [0, -Infinity, 0, 1, 25, 2, 25, 3, 50, Infinity],
    Array.from({ length: 40 }, (_, i) => [i, 100 + i]).flat(),
  ];
  for (const marks of cases) assert.equal(layoutOf(roundTrip(records, marks), marks.length / 2), TUPLES);
});

test("strings at the column's length limits and big buffers round-trip", () => {
  const lens = [0, 1, 255, 256, 65_535];
  const f = roundTrip(lens.map((n, i) => ["a".repeat(n), i]));
  assert.equal(layoutOf(f), TUPLES);
  const big = Array.from({ length: 20_000 }, (_, i) => [`word${i}`.repeat(1 + (i % 7)), i, -i / 3]);
  assert.equal(layoutOf(roundTrip(big)), TUPLES, "a buffer larger than a chunk of frame bytes");
  // Frames encoded one after the other stay intact (each has bytes of its own).
  const frames = Array.from({ length: 200 }, (_, n) => encodeDataFrame(0, n, [[`f${n}`, n]]));
  frames.forEach((fr, n) => assert.deepEqual(decodeRecords(fr), [[`f${n}`, n]]));
});

/** The frame of `records` with its tuple block's bytes changed by `edit` (offsets from the block's start). */
function forged(records: unknown[], edit: (b: Uint8Array, at: number) => Uint8Array): Uint8Array {
  const f = Uint8Array.from(encodeDataFrame(0, 0, records));
  assert.equal(layoutOf(f), TUPLES);
  return edit(f, FRAME_HEADER_BYTES + 3);
}

function refused(f: Uint8Array, why: RegExp): void {
  assert.throws(
    () => decodeRecords(f),
    (err: unknown) => err instanceof EddyError && err.code === ErrorCode.InternalError && why.test(err.message),
  );
}

test("malformed tuple blocks are refused with InternalError", () => {
  const records = [
    ["alpha", 1],
    ["beta", 300],
  ];
  const f = encodeDataFrame(0, 0, records);
  for (let len = FRAME_HEADER_BYTES + 2; len < f.length; len++) {
    assert.throws(() => decodeRecords(f.subarray(0, len)), EddyError, `cut at ${len} of ${f.length} bytes`);
  }
  refused(
    forged(records, (b) => Uint8Array.of(...b, 0)),
    /bytes after its columns/,
  );
  refused(
    forged(records, (b, at) => ((b[at + 3] = 0), b)),
    /0 records/,
  ); // count 0
  refused(
    forged(records, (b, at) => (b.set([0xff, 0xff, 0xff, 0xff], at), b)),
    /4294967295 records of 2 fields in \d+ bytes/,
  ); // a count the frame cannot hold, refused before arrays of that length are made
  refused(
    forged(records, (b, at) => ((b[at + 4] = MAX_TUPLE_ARITY + 1), b)),
    /fields/,
  );
  refused(
    forged(records, (b, at) => ((b[at + 5] = 9), b)),
    /unknown kind 9/,
  );
  refused(
    forged(records, (b) => ((b[b.length - 10] = 0xc3), b)),
    /not ASCII/,
  ); // a byte of the strings, not ASCII
  refused(
    forged(records, (b, at) => ((b[at + 7] = 200), b)),
    /string lengths/,
  ); // the first string's length past the column's bytes
  refused(
    forged(records, (b, at) => ((b[at + 7] = 1), b)),
    /string lengths short of the column's bytes/,
  ); // the first string's length short of its bytes
  assert.deepEqual(decodeRecords(f), records, "a block decodes whole right after a malformed one was refused");
  const unknownLayout = Uint8Array.from(f);
  unknownLayout[FRAME_HEADER_BYTES + 2] = 7;
  refused(unknownLayout, /unknown record layout 7/);
  refused(f.subarray(0, FRAME_HEADER_BYTES + 2), /no record layout/);
});
