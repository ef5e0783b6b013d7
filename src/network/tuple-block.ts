/**
 * The tuple block: a DATA frame's records when every one is an array of the same length whose fields
 * are, column by column, all ASCII strings or all numbers (WordCount's `[word, 1]`, a keyBy's
 * `[key, value]` of such fields). msgpack writes and reads such a buffer one small value at a time and
 * builds every string from its bytes; here each column is written once, the strings of a column as one
 * block of bytes decoded by one `TextDecoder` call and sliced, the numbers at the smallest width that
 * holds every value of the column exactly. Buffers of any other shape stay msgpack (see frame.ts).
 *
 * Layout (big-endian), after the frame's record layout byte:
 * ```
 * count   u32        records n (at least 1)
 * arity   u8         fields per record k (1..MAX_TUPLE_ARITY)
 * kinds   k × u8     per column: 1 STR8, 2 STR16 (ASCII strings, u8 or u16 lengths), 3 I8, 4 I16, 5 I32, 6 F64
 * columns, in order: STR: n lengths, bytes u32, then the strings' bytes; numbers: n values
 * ```
 * The block ends where the frame ends.
 */
import { InternalError } from "../core/errors.js";

/** Most fields of a record the tuple block carries (wider records stay msgpack). */
export const MAX_TUPLE_ARITY = 8;
/** Longest string of a tuple block's column (longer ones make the buffer msgpack). */
const MAX_STRING = 0xffff;
/**
 * Most bytes of one string column: a buffer with more is larger than a frame may be (and is split
 * anyway), and the scratch bytes, kept for the next buffer, stay bounded.
 */
const MAX_COLUMN_BYTES = 1 << 20;

/** Kinds of a tuple block's columns: ASCII strings with u8 or u16 lengths, numbers at a width. */
const Kind = { Str8: 1, Str16: 2, I8: 3, I16: 4, I32: 5, F64: 6 } as const;

/** Per column while encoding: string bytes and lengths, or numbers (reused, grown as needed). */
const strBytes: Uint8Array[] = [];
const strLens: Uint16Array[] = [];
const nums: Float64Array[] = [];
const isString = new Uint8Array(MAX_TUPLE_ARITY);
const byteCount = new Int32Array(MAX_TUPLE_ARITY);
const maxLen = new Int32Array(MAX_TUPLE_ARITY);
const kinds = new Uint8Array(MAX_TUPLE_ARITY);
const ascii = new TextDecoder("utf-8");

function grownBytes(j: number, need: number): Uint8Array {
  const old = strBytes[j]!;
  const b = new Uint8Array(Math.min(MAX_COLUMN_BYTES, Math.max(need, old.length * 2)));
  b.set(old);
  strBytes[j] = b;
  return b;
}

function ensureRows(j: number, n: number): void {
  if (strLens[j] === undefined) {
    strBytes[j] = new Uint8Array(16384);
    strLens[j] = new Uint16Array(1024);
    nums[j] = new Float64Array(1024);
  }
  if (strLens[j]!.length < n) {
    strLens[j] = new Uint16Array(n);
    nums[j] = new Float64Array(n);
  }
}

/** Bytes of one number of a column, by its kind. */
const NUM_BYTES = [0, 0, 0, 1, 2, 4, 8];

/** Bytes of the chunks frames are cut from. */
const CHUNK_BYTES = 256 * 1024;
let chunk = new Uint8Array(0);
let chunkUsed = 0;

/**
 * `size` bytes for a frame, cut from a chunk that is never written again once cut (as msgpackr's
 * output buffer is): one allocation of backing store per chunk, not per frame, which would count
 * against V8's external memory and start collections. A frame larger than a quarter chunk gets its own.
 */
function frameBytes(size: number): Uint8Array {
  if (size > CHUNK_BYTES >>> 2) return new Uint8Array(size);
  if (chunkUsed + size > chunk.length) {
    chunk = new Uint8Array(CHUNK_BYTES);
    chunkUsed = 0;
  }
  const b = chunk.subarray(chunkUsed, chunkUsed + size);
  chunkUsed += (size + 7) & ~7;
  return b;
}

/**
 * Copies column `j` of `records` into its scratch bytes and lengths; false when it is not all ASCII
 * strings of at most {@link MAX_STRING}, or more than {@link MAX_COLUMN_BYTES} in all, or (with
 * `checkShape`, for the first column: one pass over the records less) when a record is not an array of
 * `k` fields.
 */
function scanStrings(records: unknown[], n: number, j: number, k: number, checkShape: boolean): boolean {
  const lens = strLens[j]!;
  let bytes = strBytes[j]!;
  let p = 0;
  let most = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i] as unknown[];
    if (checkShape && (!Array.isArray(r) || r.length !== k)) return false;
    const v = r[j];
    if (typeof v !== "string") return false;
    const len = v.length;
    if (len > MAX_STRING) return false;
    if (p + len > bytes.length) {
      if (p + len > MAX_COLUMN_BYTES) return false;
      bytes = grownBytes(j, p + len);
    }
    for (let c = 0; c < len; c++) {
      const code = v.charCodeAt(c);
      if (code > 0x7f) return false;
      bytes[p++] = code;
    }
    lens[i] = len;
    if (len > most) most = len;
  }
  byteCount[j] = p;
  maxLen[j] = most;
  return true;
}

/**
 * Copies column `j` of `records` into its scratch numbers and sets its kind (the smallest integer width
 * that holds every value exactly, else F64); false when it is not all numbers, or (with `checkShape`)
 * when a record is not an array of `k` fields.
 */
function scanNumbers(records: unknown[], n: number, j: number, k: number, checkShape: boolean): boolean {
  const col = nums[j]!;
  let lo = 0;
  let hi = 0;
  let ints = true;
  for (let i = 0; i < n; i++) {
    const r = records[i] as unknown[];
    if (checkShape && (!Array.isArray(r) || r.length !== k)) return false;
    const v = r[j];
    if (typeof v !== "number") return false;
    col[i] = v;
    // -0 and non-integers need F64 (`v | 0` drops both, and every value outside int32).
    if ((v | 0) !== v || (v === 0 && 1 / v < 0)) ints = false;
    else if (v < lo) lo = v;
    else if (v > hi) hi = v;
  }
  kinds[j] = !ints ? Kind.F64 : lo >= -128 && hi <= 127 ? Kind.I8 : lo >= -32768 && hi <= 32767 ? Kind.I16 : Kind.I32;
  return true;
}

/**
 * `records` as a tuple block after `prefix` bytes left for the frame's header, in bytes of exactly the
 * frame's size; undefined when the records do not all have the same tuple shape.
 */
export function encodeTupleBlock(records: unknown[], prefix: number): Uint8Array | undefined {
  const n = records.length;
  const first = records[0];
  if (n === 0 || !Array.isArray(first)) return undefined;
  const k = first.length;
  if (k === 0 || k > MAX_TUPLE_ARITY) return undefined;
  for (let j = 0; j < k; j++) {
    const t = typeof first[j];
    ensureRows(j, n);
    isString[j] = t === "string" ? 1 : 0;
    const checkShape = j === 0;
    if (t === "string" ? !scanStrings(records, n, j, k, checkShape) : t !== "number" || !scanNumbers(records, n, j, k, checkShape)) return undefined;
  }
  let size = prefix + 5 + k;
  for (let j = 0; j < k; j++) {
    if (isString[j] === 1) {
      kinds[j] = maxLen[j]! <= 0xff ? Kind.Str8 : Kind.Str16;
      size += n * (kinds[j] === Kind.Str8 ? 1 : 2) + 4 + byteCount[j]!;
    } else {
      size += n * NUM_BYTES[kinds[j]!]!;
    }
  }
  const b = frameBytes(size);
  const view = new DataView(b.buffer, b.byteOffset, size);
  let o = prefix;
  view.setUint32(o, n);
  b[o + 4] = k;
  o += 5;
  for (let j = 0; j < k; j++) b[o++] = kinds[j]!;
  for (let j = 0; j < k; j++) o = writeColumn(b, view, o, j, n);
  return b;
}

function writeColumn(b: Uint8Array, view: DataView, o: number, j: number, n: number): number {
  const kind = kinds[j]!;
  if (kind === Kind.Str8 || kind === Kind.Str16) {
    const lens = strLens[j]!;
    if (kind === Kind.Str8) for (let i = 0; i < n; i++) b[o++] = lens[i]!;
    else for (let i = 0; i < n; i++, o += 2) view.setUint16(o, lens[i]!);
    const count = byteCount[j]!;
    view.setUint32(o, count);
    b.set(strBytes[j]!.subarray(0, count), o + 4);
    return o + 4 + count;
  }
  const col = nums[j]!;
  switch (kind) {
    case Kind.I8:
      for (let i = 0; i < n; i++) view.setInt8(o++, col[i]!);
      return o;
    case Kind.I16:
      for (let i = 0; i < n; i++, o += 2) view.setInt16(o, col[i]!);
      return o;
    case Kind.I32:
      for (let i = 0; i < n; i++, o += 4) view.setInt32(o, col[i]!);
      return o;
    default:
      for (let i = 0; i < n; i++, o += 8) view.setFloat64(o, col[i]!);
      return o;
  }
}

function malformed(b: Uint8Array, why: string): InternalError {
  return new InternalError(`malformed tuple block in a DATA frame of ${b.length} bytes: ${why}`);
}

/** Per column while decoding: its kind, where its lengths or numbers start, its characters and the next string's start. */
const colKind = new Uint8Array(MAX_TUPLE_ARITY);
const colAt = new Int32Array(MAX_TUPLE_ARITY);
const colChars: string[] = new Array<string>(MAX_TUPLE_ARITY).fill("");
const colNext = new Int32Array(MAX_TUPLE_ARITY);

/** The records of the tuple block at `o` of frame `b`; throws InternalError when it is malformed. */
export function decodeTupleBlock(b: Uint8Array, o: number): unknown[] {
  if (b.length < o + 5) throw malformed(b, "shorter than its count and arity");
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = view.getUint32(o);
  const k = b[o + 4]!;
  if (n === 0 || k === 0 || k > MAX_TUPLE_ARITY) throw malformed(b, `${n} records of ${k} fields`);
  const kindsAt = o + 5;
  o = kindsAt + k;
  // Every field takes at least a byte (an I8, a string's length): a count the frame cannot hold is
  // refused before anything is allocated for it.
  if (n * k > b.length - o) throw malformed(b, `${n} records of ${k} fields in ${Math.max(0, b.length - o)} bytes`);
  try {
    // Every column is checked before the first record is built: a malformed block yields nothing.
    for (let j = 0; j < k; j++) {
      const kind = b[kindsAt + j]!;
      colKind[j] = kind;
      colAt[j] = o;
      if (kind === Kind.Str8 || kind === Kind.Str16) o = checkStrings(b, view, o, n, kind === Kind.Str8 ? 1 : 2, j);
      else if (kind >= Kind.I8 && kind <= Kind.F64) {
        o += n * NUM_BYTES[kind]!;
        if (o > b.length) throw malformed(b, "shorter than a number column");
      } else throw malformed(b, `column ${j} of unknown kind ${kind}`);
    }
    if (o !== b.length) throw malformed(b, `${b.length - o} bytes after its columns`);
    // One pass builds the records, no column arrays in between.
    const records: unknown[] = new Array(n);
    if (k === 1) for (let i = 0; i < n; i++) records[i] = [field(b, view, 0, i)];
    else if (k === 2) for (let i = 0; i < n; i++) records[i] = [field(b, view, 0, i), field(b, view, 1, i)];
    else {
      for (let i = 0; i < n; i++) {
        const r: unknown[] = new Array(k);
        for (let j = 0; j < k; j++) r[j] = field(b, view, j, i);
        records[i] = r;
      }
    }
    return records;
  } finally {
    // The columns' strings are not kept past the call, also when a malformed block threw.
    colChars.fill("");
  }
}

/** Field `j` of record `i`; the records are read in order (a string column keeps its place). */
function field(b: Uint8Array, view: DataView, j: number, i: number): unknown {
  const at = colAt[j]!;
  switch (colKind[j]) {
    case Kind.Str8:
    case Kind.Str16: {
      const len = colKind[j] === Kind.Str8 ? b[at + i]! : view.getUint16(at + 2 * i);
      const from = colNext[j]!;
      colNext[j] = from + len;
      return colChars[j]!.slice(from, from + len);
    }
    case Kind.I8:
      return view.getInt8(at + i);
    case Kind.I16:
      return view.getInt16(at + 2 * i);
    case Kind.I32:
      return view.getInt32(at + 4 * i);
    default:
      return view.getFloat64(at + 8 * i);
  }
}

/** Checks string column `j` at `o` (lengths adding up to its bytes, ASCII only), decodes its bytes once; returns its end. */
function checkStrings(b: Uint8Array, view: DataView, o: number, n: number, lenBytes: number, j: number): number {
  const start = o + n * lenBytes;
  if (b.length < start + 4) throw malformed(b, "shorter than a string column's lengths");
  const count = view.getUint32(start);
  if (b.length < start + 4 + count) throw malformed(b, "shorter than a string column's bytes");
  let total = 0;
  if (lenBytes === 1) for (let i = 0; i < n; i++) total += b[o + i]!;
  else for (let i = 0; i < n; i++) total += view.getUint16(o + 2 * i);
  if (total > count) throw malformed(b, "string lengths past the column's bytes");
  if (total < count) throw malformed(b, "string lengths short of the column's bytes");
  const s = ascii.decode(b.subarray(start + 4, start + 4 + count));
  // ASCII only: one character per byte; any other byte decodes to fewer characters or to U+FFFD.
  if (s.length !== count || s.indexOf("\uFFFD") !== -1) throw malformed(b, "a string column that is not ASCII");
  colChars[j] = s;
  colNext[j] = 0;
  return start + 4 + count;
}
