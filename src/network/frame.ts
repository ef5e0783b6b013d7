/**
 * Wire format of the data plane (NATS and cross-thread links share it).
 *
 * Data frame (producer → consumer), 12-byte big-endian prefix then the body:
 * ```
 * 0      kind      u8   1 DATA, 2 END_OF_PARTITION, 3 BARRIER, 4 ERROR, 5 CANCEL_CHECKPOINT (6 was WATERMARK in version 0)
 * 1      version   u8   2 ({@link FRAME_VERSION}); a consumer refuses a frame of another version
 * 2..3   backlog   u16  DATA: buffers the producer still has queued for this channel (saturates at 65535); else 0
 * 4..7   channel   u32  consumer-side channel id (index among the consumer task's channels)
 * 8..11  sequence  u32  per channel, from 0, +1 per frame (every kind); gaps are fatal
 * 12..   body      DATA: watermarks u16 (n, at most {@link MAX_FRAME_WATERMARKS}), n × (at u32, watermark f64),
 *                        then the records' layout u8 and the records: 0 a msgpack array of records, 1 a tuple
 *                        block (records that are arrays of one shape of strings and numbers, tuple-block.ts);
 *                        watermark i comes after the first `at` records (non-decreasing, at most the number
 *                        of records; a watermark is ms, may be ±Infinity);
 *                  ERROR: msgpack WireError; END: empty;
 *                  BARRIER (17 bytes): checkpointId u64, timestamp f64, kind u8 (0 CHECKPOINT, 1 SAVEPOINT);
 *                  CANCEL_CHECKPOINT (8 bytes): checkpointId u64
 * ```
 * BARRIER and CANCEL_CHECKPOINT are events: in-band (never before an earlier DATA frame of their channel),
 * finishing the buffer before them, but they need no credit, as in Flink. Watermarks travel inside DATA
 * frames at their places between the records, as Flink serializes them into its buffers: a watermark does
 * not finish a buffer. All integers are big-endian; a u64 holds a safe integer.
 * Control frame (consumer → producer, on `subjects.credit(producerAttemptId)`), 4-byte prefix:
 * ```
 * 0      kind      u8   0x10 PARTITION_REQUEST, 0x11 CREDIT, 0x12 CANCEL, 0x13 PING
 * 1      version   u8   2; a producer refuses a PARTITION_REQUEST of another version
 * 2..3   count     u16  entries that follow (CREDIT, CANCEL)
 * REQUEST: msgpack {r: resultId, p: partitionIndex, s: subpartitionIndex, ch: channelId,
 *          d: data subject, c: initial credit, a: consumer attempt id}; reply msgpack {v: viewId} | {e: WireError}
 * CREDIT:  count × (viewId u32, delta u32)
 * CANCEL:  count × viewId u32
 * PING:    no entries; a request, answered msgpack {} while the producer attempt is registered
 *          (a BLOCKING reader waiting for a first frame asks whether its producer still runs)
 * ```
 */
import { Packr, RESERVE_START_SPACE } from "msgpackr";
import { type EddyError, errorFromWire, InternalError } from "../core/errors.js";
import type { CheckpointBarrier, WatermarkMarks } from "../core/stream-events.js";
import { decodeTupleBlock, encodeTupleBlock } from "./tuple-block.js";

/** Kinds of data frames. */
export const FrameKind = { Data: 1, EndOfPartition: 2, Barrier: 3, Error: 4, CancelCheckpoint: 5 } as const;
/** Kinds of control frames. */
export const ControlKind = { PartitionRequest: 0x10, Credit: 0x11, Cancel: 0x12, Ping: 0x13 } as const;
/** Bytes before the body of a data frame. */
export const FRAME_HEADER_BYTES = 12;
/**
 * Version of the data and control frame layouts; changes when either does (1: watermarks inside DATA
 * frames; 2: a DATA frame's records as msgpack or a tuple block, named by a layout byte).
 */
export const FRAME_VERSION = 2;
/** Most watermarks one DATA frame carries (a subpartition finishes a buffer that holds this many). */
export const MAX_FRAME_WATERMARKS = 1024;
/** Bytes of the watermark count of a DATA frame's body. */
const MARKS_COUNT_BYTES = 2;
/** Bytes of one watermark of a DATA frame's body. */
const MARK_BYTES = 12;
/** Bytes of the records' layout (msgpack or tuple block) of a DATA frame's body. */
const LAYOUT_BYTES = 1;
/** Layouts of a DATA frame's records. */
const RecordLayout = { Msgpack: 0, Tuples: 1 } as const;
/** Watermarks whose bytes fit in the space msgpackr reserves before its output (at most 255 bytes with the header). */
const MARKS_IN_PLACE = Math.floor((255 - FRAME_HEADER_BYTES - MARKS_COUNT_BYTES - LAYOUT_BYTES) / MARK_BYTES);

/** Same options as the project codec (src/codec/codec.ts), so either side can decode the other. */
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: "number" });

function writeHeader(b: Uint8Array, kind: number, channel: number, seq: number, backlog = 0): void {
  const bl = Math.min(backlog, 0xffff);
  b[0] = kind;
  b[1] = FRAME_VERSION;
  b[2] = bl >>> 8;
  b[3] = bl;
  b[4] = channel >>> 24;
  b[5] = channel >>> 16;
  b[6] = channel >>> 8;
  b[7] = channel;
  b[8] = seq >>> 24;
  b[9] = seq >>> 16;
  b[10] = seq >>> 8;
  b[11] = seq;
}

/** Reads a big-endian u32 at `o`. */
export function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/**
 * Encodes a DATA frame of `records` with the watermarks `marks` between them: as a tuple block when
 * the records have its shape, else as msgpack. A tuple block is written into a buffer of the frame's
 * size; msgpack bytes are a view into msgpackr's output buffer (never overwritten later), encoded with
 * the space of the header and of up to {@link MARKS_IN_PLACE} watermarks reserved in place, so nothing
 * is copied; more watermarks are written into a copy.
 */
export function encodeDataFrame(channel: number, seq: number, records: unknown[], backlog = 0, marks?: WatermarkMarks): Uint8Array {
  const n = marks === undefined ? 0 : marks.length >>> 1;
  if (n > MAX_FRAME_WATERMARKS) throw new InternalError(`a DATA frame carries at most ${MAX_FRAME_WATERMARKS} watermarks, not ${n}`);
  const prefix = FRAME_HEADER_BYTES + MARKS_COUNT_BYTES + n * MARK_BYTES + LAYOUT_BYTES;
  let b = encodeTupleBlock(records, prefix);
  if (b !== undefined) b[prefix - 1] = RecordLayout.Tuples;
  else {
    if (n <= MARKS_IN_PLACE) b = packr.pack(records, RESERVE_START_SPACE | prefix);
    else {
      const body = packr.pack(records);
      b = new Uint8Array(prefix + body.length);
      b.set(body, prefix);
    }
    b[prefix - 1] = RecordLayout.Msgpack;
  }
  writeHeader(b, FrameKind.Data, channel, seq, backlog);
  b[FRAME_HEADER_BYTES] = n >>> 8;
  b[FRAME_HEADER_BYTES + 1] = n;
  if (n > 0) {
    const view = new DataView(b.buffer, b.byteOffset, prefix);
    for (let i = 0, o = FRAME_HEADER_BYTES + MARKS_COUNT_BYTES; i < n; i++, o += MARK_BYTES) {
      view.setUint32(o, marks![2 * i]!);
      view.setFloat64(o + 4, marks![2 * i + 1]!);
    }
  }
  return b;
}

/**
 * Writes the header of a DATA frame that was encoded before it was sent ({@link encodeDataFrame} with
 * any header values): its channel, sequence number and backlog are known only when it goes out.
 */
export function stampDataFrame(b: Uint8Array, channel: number, seq: number, backlog: number): void {
  writeHeader(b, FrameKind.Data, channel, seq, backlog);
}

/** Encodes an END_OF_PARTITION frame. */
export function encodeEndFrame(channel: number, seq: number): Uint8Array {
  const b = new Uint8Array(FRAME_HEADER_BYTES);
  writeHeader(b, FrameKind.EndOfPartition, channel, seq);
  return b;
}

/** Encodes an ERROR frame carrying the wire form of `err`. */
export function encodeErrorFrame(channel: number, seq: number, err: EddyError): Uint8Array {
  const body = packr.pack(err.toWire());
  const b = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  writeHeader(b, FrameKind.Error, channel, seq);
  b.set(body, FRAME_HEADER_BYTES);
  return b;
}

/** Bytes of a BARRIER frame's body. */
const BARRIER_BODY_BYTES = 17;
const SNAPSHOT_KINDS = ["CHECKPOINT", "SAVEPOINT"] as const;

function writeU64(b: Uint8Array, o: number, v: number): void {
  writeU32(b, o, Math.floor(v / 0x1_0000_0000));
  writeU32(b, o + 4, v >>> 0);
}

function readU64(b: Uint8Array, o: number): number {
  return readU32(b, o) * 0x1_0000_0000 + readU32(b, o + 4);
}

/** Encodes a BARRIER frame (the barrier must be valid: see `checkBarrier` in src/core/stream-events.ts). */
export function encodeBarrierFrame(channel: number, seq: number, barrier: CheckpointBarrier): Uint8Array {
  const b = new Uint8Array(FRAME_HEADER_BYTES + BARRIER_BODY_BYTES);
  writeHeader(b, FrameKind.Barrier, channel, seq);
  writeU64(b, FRAME_HEADER_BYTES, barrier.checkpointId);
  new DataView(b.buffer, b.byteOffset, b.byteLength).setFloat64(FRAME_HEADER_BYTES + 8, barrier.timestamp);
  // Bit 0: the kind; bit 1: a stop-with-savepoint's barrier.
  b[FRAME_HEADER_BYTES + 16] = (barrier.kind === "SAVEPOINT" ? 1 : 0) | (barrier.stop ? 2 : 0);
  return b;
}

/** The barrier of a BARRIER frame; throws InternalError on a malformed body. */
export function decodeBarrierFrame(b: Uint8Array): CheckpointBarrier {
  const flags = b[FRAME_HEADER_BYTES + 16] ?? 255;
  const kind = flags <= 3 ? SNAPSHOT_KINDS[flags & 1] : undefined;
  if (b.length !== FRAME_HEADER_BYTES + BARRIER_BODY_BYTES || kind === undefined) {
    throw new InternalError(`malformed BARRIER frame of ${b.length} bytes`);
  }
  const timestamp = new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat64(FRAME_HEADER_BYTES + 8);
  const barrier: CheckpointBarrier = { checkpointId: readU64(b, FRAME_HEADER_BYTES), timestamp, kind };
  if (flags & 2) barrier.stop = true;
  return barrier;
}

/** Encodes a CANCEL_CHECKPOINT frame. */
export function encodeCancelFrame(channel: number, seq: number, checkpointId: number): Uint8Array {
  const b = new Uint8Array(FRAME_HEADER_BYTES + 8);
  writeHeader(b, FrameKind.CancelCheckpoint, channel, seq);
  writeU64(b, FRAME_HEADER_BYTES, checkpointId);
  return b;
}

/** The checkpoint id of a CANCEL_CHECKPOINT frame; throws InternalError on a malformed body. */
export function decodeCancelFrame(b: Uint8Array): number {
  if (b.length !== FRAME_HEADER_BYTES + 8) throw new InternalError(`malformed CANCEL_CHECKPOINT frame of ${b.length} bytes`);
  return readU64(b, FRAME_HEADER_BYTES);
}

/** Encodes an in-band event (barrier or cancel marker) as its data frame. */
export function encodeEventFrame(channel: number, seq: number, event: { barrier: CheckpointBarrier } | { cancel: number }): Uint8Array {
  if ("barrier" in event) return encodeBarrierFrame(channel, seq, event.barrier);
  return encodeCancelFrame(channel, seq, event.cancel);
}

/** Kind of a data frame. */
export const frameKind = (b: Uint8Array): number => b[0]!;
/** Layout version of a data or control frame. */
export const frameVersion = (b: Uint8Array): number => b[1]!;

/** The error of a frame of layout version `v`, another than this Eddy's {@link FRAME_VERSION}. */
export function versionError(v: number, where: string): InternalError {
  return new InternalError(
    `${where}: frame format version ${v}, this Eddy reads version ${FRAME_VERSION}; the TaskExecutors exchanging data run different Eddy versions`,
    { details: { frameVersion: v, expected: FRAME_VERSION } },
  );
}
/** Consumer channel id of a data frame. */
export const frameChannel = (b: Uint8Array): number => readU32(b, 4);
/** Producer backlog announced by a DATA frame. */
export const frameBacklog = (b: Uint8Array): number => (b[2]! << 8) | b[3]!;
/** Sequence number of a data frame. */
export const frameSeq = (b: Uint8Array): number => readU32(b, 8);

/** Watermarks in a DATA frame (read from its body's first bytes). */
function frameMarks(b: Uint8Array): number {
  if (b.length < FRAME_HEADER_BYTES + MARKS_COUNT_BYTES) throw new InternalError(`a DATA frame of ${b.length} bytes is shorter than its watermark count`);
  return (b[FRAME_HEADER_BYTES]! << 8) | b[FRAME_HEADER_BYTES + 1]!;
}

/** The records of a DATA frame; throws InternalError when they do not decode. */
export function decodeRecords(b: Uint8Array): unknown[] {
  const o = FRAME_HEADER_BYTES + MARKS_COUNT_BYTES + frameMarks(b) * MARK_BYTES;
  const layout = b[o];
  if (layout === RecordLayout.Tuples) return decodeTupleBlock(b, o + LAYOUT_BYTES);
  if (layout !== RecordLayout.Msgpack) {
    throw new InternalError(`a DATA frame of ${b.length} bytes has ${layout === undefined ? "no record layout" : `the unknown record layout ${layout}`}`);
  }
  const records = packr.unpack(b.subarray(o + LAYOUT_BYTES));
  if (!Array.isArray(records)) throw new InternalError(`the body of a DATA frame of ${b.length} bytes is no array of records`);
  return records;
}

/** The watermarks of a DATA frame between its records (undefined when it has none); checked against the records with `checkMarks`. */
export function decodeWatermarks(b: Uint8Array): WatermarkMarks | undefined {
  const n = frameMarks(b);
  if (n === 0) return undefined;
  const o0 = FRAME_HEADER_BYTES + MARKS_COUNT_BYTES;
  if (b.length < o0 + n * MARK_BYTES) throw new InternalError(`a DATA frame of ${b.length} bytes is shorter than its ${n} watermarks`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const marks: WatermarkMarks = [];
  for (let i = 0, o = o0; i < n; i++, o += MARK_BYTES) marks.push(view.getUint32(o), view.getFloat64(o + 4));
  return marks;
}

/** The error of an ERROR frame, rebuilt as its original class (an InternalError if the body does not decode). */
export function decodeErrorFrame(b: Uint8Array): EddyError {
  let body: unknown;
  try {
    body = packr.unpack(b.subarray(FRAME_HEADER_BYTES));
  } catch (err) {
    return new InternalError(`malformed ERROR frame of ${b.length} bytes`, { cause: err });
  }
  return errorFromWire(body);
}

/** A partition request body. */
export interface PartitionRequest {
  /** Result id. */
  r: string;
  /** Partition index within the result. */
  p: number;
  /** Subpartition index. */
  s: number;
  /** Consumer channel id. */
  ch: number;
  /** Data subject of the consumer. */
  d: string;
  /** Initial credit. */
  c: number;
  /** Consumer attempt id. */
  a: string;
}

/** Encodes a PARTITION_REQUEST control frame. */
export function encodeRequest(req: PartitionRequest): Uint8Array {
  const b = packr.pack(req, RESERVE_START_SPACE | 4);
  b[0] = ControlKind.PartitionRequest;
  b[1] = FRAME_VERSION;
  b[2] = 0;
  b[3] = 0;
  return b;
}

/** Decodes a PARTITION_REQUEST control frame. */
export function decodeRequest(b: Uint8Array): PartitionRequest {
  return packr.unpack(b.subarray(4)) as PartitionRequest;
}

/** Encodes a CREDIT control frame for one view. */
export function encodeCredit(viewId: number, delta: number): Uint8Array {
  const b = new Uint8Array(12);
  b[0] = ControlKind.Credit;
  b[3] = 1;
  writeU32(b, 4, viewId);
  writeU32(b, 8, delta);
  return b;
}

/** Encodes a CANCEL control frame for some views. */
export function encodeCancel(viewIds: number[]): Uint8Array {
  const b = new Uint8Array(4 + 4 * viewIds.length);
  b[0] = ControlKind.Cancel;
  b[2] = viewIds.length >>> 8;
  b[3] = viewIds.length;
  for (let i = 0; i < viewIds.length; i++) writeU32(b, 4 + 4 * i, viewIds[i]!);
  return b;
}

/** Encodes a PING control frame. */
export function encodePing(): Uint8Array {
  const b = new Uint8Array(4);
  b[0] = ControlKind.Ping;
  return b;
}

/** Number of entries of a CREDIT or CANCEL control frame. */
export const controlCount = (b: Uint8Array): number => (b[2]! << 8) | b[3]!;

/** Encodes a small msgpack value (replies). */
export const packSmall = (v: unknown): Uint8Array => packr.pack(v);
/** Decodes a small msgpack value (replies). */
export const unpackSmall = (b: Uint8Array): unknown => packr.unpack(b);
