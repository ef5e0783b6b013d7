/**
 * Eddy's canonical state snapshot format (the idea of Flink's CANONICAL savepoint format): one
 * self-describing byte layout for keyed and operator state, independent of the backend that wrote
 * it, stable across Eddy versions (a change means a new version number and a reader for the old one).
 * This build writes version 2 and reads versions 1 and 2.
 *
 * ## Byte layout
 * All integers are unsigned big-endian unless noted. Values are MessagePack (msgpackr, plain data:
 * maps decode as objects, so state values should be JSON-like data, byte arrays or undefined).
 *
 * ```text
 * offset      size   field
 * 0           9      magic: ASCII "EDDYSTATE"
 * 9           1      format version: 2 (1 is still read, see below)
 * 10          1      kind: 1 = keyed, 2 = operator
 * 11          1      reserved: 0
 * 12          4      max parallelism (keyed; 0 for operator)
 * 16          4      first key group of the range (keyed; 0 for operator)
 * 20          4      last key group of the range, inclusive, int32 (keyed; -1 for operator)
 * 24          4      D: byte length of the state descriptors
 * 28          D      state descriptors, a MessagePack array, one per registered state, in state-index order:
 *                      keyed:    {name: string, type: "value"|"list"|"map"|"reducing"|"aggregating"}
 *                      operator: {name: string, mode: "SPLIT_DISTRIBUTE"|"UNION"}
 * ```
 * Keyed body, version 2 (G = last - first + 1 key groups), starting at B = 28 + D. The offset index
 * comes last, so a writer streams the key groups out one by one as it serializes them (the
 * asynchronous part of a checkpoint) and writes the index once it knows every length:
 * ```text
 * B           L      key-group sections back to back, in key-group order; an empty key group has zero bytes
 * B + L       4(G+1) offset index: G+1 uint32 offsets relative to B; key group (first + i) occupies
 *                    bytes [B + off[i], B + off[i+1]); off[0] = 0, off[G] = L,
 *                    so the file is exactly B + L + 4(G+1) bytes
 * ```
 * Keyed body, version 1 (read only): the same offset index first, then the sections:
 * ```text
 * B           4(G+1) offset index, relative to the data start S = B + 4(G+1); off[G] = data length
 * S           ...    key-group sections back to back; the file is exactly S + off[G] bytes
 * ```
 * A key-group section is one MessagePack array `[s0, entries0, s1, entries1, ...]`: for each state
 * (by descriptor index `s`) with data in that group, a flat array of its entries:
 * - value, reducing, aggregating: `[key, value, key, value, ...]` (aggregating stores the accumulator);
 * - list: `[key, [element, ...], ...]`;
 * - map: `[key, [mapKey, mapValue, mapKey, mapValue, ...], ...]`.
 * Keys are the original user keys (strings, numbers, booleans, null, arrays and plain objects of those).
 * A reader decodes only the sections of the key groups it needs (the offset index locates them).
 *
 * Operator body (versions 1 and 2 alike), starting at B = 28 + D: one MessagePack array with one list
 * of entries per descriptor, in descriptor order.
 *
 * Limits: a snapshot is at most 4 GiB (uint32 offsets). Unknown versions and kinds are refused.
 */
import { EddyError, ErrorCode } from "../core/errors.js";
import { packData, unpackData } from "../codec/codec.js";
import type { KeyGroupRange } from "./key-groups.js";

/** The first 9 bytes of every snapshot. */
export const SNAPSHOT_MAGIC = "EDDYSTATE";
/** The format version this build writes. */
export const SNAPSHOT_FORMAT_VERSION = 2;
/** Every format version this build reads. */
export const READABLE_SNAPSHOT_VERSIONS: readonly number[] = [1, 2];
/** Bytes before the descriptors. */
export const SNAPSHOT_HEADER_BYTES = 28;

/** Keyed state types as named in descriptors. */
export type KeyedStateType = "value" | "list" | "map" | "reducing" | "aggregating";
/** Operator state redistribution modes (Flink's OperatorStateHandle.Mode). */
export type OperatorStateMode = "SPLIT_DISTRIBUTE" | "UNION";
/** One keyed state in a snapshot. */
export interface KeyedStateDescriptor {
  name: string;
  type: KeyedStateType;
}
/** One operator list state in a snapshot. */
export interface OperatorStateDescriptor {
  name: string;
  mode: OperatorStateMode;
}

/** The fixed part of a snapshot, readable without decoding any state. */
export type SnapshotHeader =
  | { kind: "keyed"; version: number; maxParallelism: number; keyGroupRange: KeyGroupRange; states: KeyedStateDescriptor[]; bodyOffset: number }
  | { kind: "operator"; version: number; states: OperatorStateDescriptor[]; bodyOffset: number };

const KIND_KEYED = 1;
const KIND_OPERATOR = 2;
const KEYED_TYPES: ReadonlySet<string> = new Set(["value", "list", "map", "reducing", "aggregating"]);
const MODES: ReadonlySet<string> = new Set(["SPLIT_DISTRIBUTE", "UNION"]);
const MAGIC_BYTES = new TextEncoder().encode(SNAPSHOT_MAGIC);

/** Counters of decoding work (tests use them to prove partial decoding). */
export const snapshotDecodeStats = { keyGroupsDecoded: 0, bytesDecoded: 0 };

function malformed(message: string, cause?: unknown): EddyError {
  return new EddyError(ErrorCode.StateCorrupt, `state snapshot: ${message}`, cause === undefined ? undefined : { cause });
}

function writeHeader(out: Uint8Array, kind: number, maxP: number, start: number, end: number, descriptors: Uint8Array): DataView {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(MAGIC_BYTES, 0);
  out[9] = SNAPSHOT_FORMAT_VERSION;
  out[10] = kind;
  out[11] = 0;
  view.setUint32(12, maxP);
  view.setUint32(16, start);
  view.setInt32(20, end);
  view.setUint32(24, descriptors.length);
  out.set(descriptors, SNAPSHOT_HEADER_BYTES);
  return view;
}

/** Reads and validates the header of a snapshot (magic, version, kind, descriptors); decodes no state. */
export function readSnapshotHeader(bytes: Uint8Array): SnapshotHeader {
  if (bytes.length < SNAPSHOT_HEADER_BYTES) throw malformed(`${bytes.length} bytes is too short for a header`);
  for (let i = 0; i < MAGIC_BYTES.length; i++) {
    if (bytes[i] !== MAGIC_BYTES[i]) throw malformed(`bad magic: not an Eddy state snapshot (expected "${SNAPSHOT_MAGIC}")`);
  }
  const version = bytes[9]!;
  if (!READABLE_SNAPSHOT_VERSIONS.includes(version)) {
    throw malformed(`unsupported format version ${version}: this build reads versions ${READABLE_SNAPSHOT_VERSIONS.join(" and ")}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const d = view.getUint32(24);
  const bodyOffset = SNAPSHOT_HEADER_BYTES + d;
  if (bodyOffset > bytes.length) throw malformed(`descriptors (${d} bytes) run past the end (${bytes.length} bytes)`);
  let raw: unknown;
  try {
    raw = unpackData(bytes.subarray(SNAPSHOT_HEADER_BYTES, bodyOffset));
  } catch (err) {
    throw malformed("state descriptors are not valid MessagePack", err);
  }
  if (!Array.isArray(raw)) throw malformed("state descriptors are not an array");
  const kind = bytes[10];
  if (kind === KIND_KEYED) {
    const states = raw.map((x: { name?: unknown; type?: unknown }) => {
      if (typeof x?.name !== "string" || typeof x.type !== "string" || !KEYED_TYPES.has(x.type))
        throw malformed(`bad keyed state descriptor ${JSON.stringify(x)}`);
      return { name: x.name, type: x.type as KeyedStateType };
    });
    const maxParallelism = view.getUint32(12);
    const keyGroupRange = { start: view.getUint32(16), end: view.getInt32(20) };
    if (maxParallelism < 1 || keyGroupRange.end < keyGroupRange.start - 1 || keyGroupRange.end >= maxParallelism) {
      throw malformed(`bad key-group range [${keyGroupRange.start}, ${keyGroupRange.end}] for max parallelism ${maxParallelism}`);
    }
    return { kind: "keyed", version, maxParallelism, keyGroupRange, states, bodyOffset };
  }
  if (kind === KIND_OPERATOR) {
    const states = raw.map((x: { name?: unknown; mode?: unknown }) => {
      if (typeof x?.name !== "string" || typeof x.mode !== "string" || !MODES.has(x.mode))
        throw malformed(`bad operator state descriptor ${JSON.stringify(x)}`);
      return { name: x.name, mode: x.mode as OperatorStateMode };
    });
    return { kind: "operator", version, states, bodyOffset };
  }
  throw malformed(`unknown snapshot kind ${kind} (1 = keyed, 2 = operator)`);
}

/** What a keyed snapshot's header names: max parallelism, key-group range, states. */
export interface KeyedSnapshotMeta {
  maxParallelism: number;
  keyGroupRange: KeyGroupRange;
  states: readonly KeyedStateDescriptor[];
}

/**
 * Writes a keyed snapshot (version 2) as a stream: {@link header} first, then {@link group} once per
 * key group of the range in order, then {@link trailer} (the offset index). Each call answers the
 * bytes to append; nothing is buffered here, so the pieces can go out while later groups are serialized.
 */
export class KeyedSnapshotWriter {
  private readonly groups: number;
  private readonly offsets: Uint32Array;
  private next = 0;
  private length = 0;

  constructor(private readonly meta: KeyedSnapshotMeta) {
    this.groups = Math.max(0, meta.keyGroupRange.end - meta.keyGroupRange.start + 1);
    this.offsets = new Uint32Array(this.groups + 1);
  }

  /** Magic, version, kind, range and state descriptors. */
  header(): Uint8Array {
    const { start, end } = this.meta.keyGroupRange;
    const descriptors = packData(this.meta.states.map((s) => ({ name: s.name, type: s.type })));
    const out = new Uint8Array(SNAPSHOT_HEADER_BYTES + descriptors.length);
    writeHeader(out, KIND_KEYED, this.meta.maxParallelism, start, end, descriptors);
    return out;
  }

  /** The section of the next key group (`[stateIndex, entries, ...]`, or undefined/empty when it holds nothing). */
  group(section: unknown[] | undefined): Uint8Array {
    if (this.next >= this.groups) throw malformed(`all ${this.groups} key groups were already written`);
    const bytes = section === undefined || section.length === 0 ? EMPTY : packData(section);
    this.length += bytes.length;
    if (this.length > 0xffffffff) throw malformed(`a snapshot of more than ${this.length} bytes exceeds the 4 GiB limit`);
    this.offsets[++this.next] = this.length;
    return bytes;
  }

  /** True once every key group was written. */
  get groupsDone(): boolean {
    return this.next === this.groups;
  }

  /** The offset index (call after the last key group). */
  trailer(): Uint8Array {
    if (this.next !== this.groups) throw malformed(`${this.next} of ${this.groups} key groups written before the index`);
    const out = new Uint8Array(4 * (this.groups + 1));
    const view = new DataView(out.buffer);
    for (let i = 0; i <= this.groups; i++) view.setUint32(4 * i, this.offsets[i]!);
    return out;
  }
}

const EMPTY = new Uint8Array(0);

/** Concatenates byte pieces into one array. */
export function concatBytes(pieces: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of pieces) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of pieces) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Writes a whole keyed snapshot (version 2) at once. `section(keyGroup)` returns the key group's
 * section array (`[stateIndex, entries, ...]`, see the module doc) or undefined when it holds nothing.
 */
export function writeKeyedSnapshot(meta: KeyedSnapshotMeta, section: (keyGroup: number) => unknown[] | undefined): Uint8Array {
  const w = new KeyedSnapshotWriter(meta);
  const pieces = [w.header()];
  for (let kg = meta.keyGroupRange.start; kg <= meta.keyGroupRange.end; kg++) pieces.push(w.group(section(kg)));
  pieces.push(w.trailer());
  return concatBytes(pieces);
}

/** Random access to the key groups of a keyed snapshot: the header is parsed once, groups on demand. */
export class KeyedSnapshotReader {
  readonly maxParallelism: number;
  readonly keyGroupRange: KeyGroupRange;
  readonly states: readonly KeyedStateDescriptor[];
  /** The format version of the bytes read. */
  readonly version: number;
  private readonly view: DataView;
  private readonly indexAt: number;
  private readonly dataStart: number;

  constructor(private readonly bytes: Uint8Array) {
    const h = readSnapshotHeader(bytes);
    if (h.kind !== "keyed") throw malformed("expected a keyed snapshot, got an operator snapshot");
    this.maxParallelism = h.maxParallelism;
    this.keyGroupRange = h.keyGroupRange;
    this.states = h.states;
    const groups = h.keyGroupRange.end - h.keyGroupRange.start + 1;
    this.version = h.version;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const indexBytes = 4 * (groups + 1);
    if (h.version === 1) {
      this.indexAt = h.bodyOffset;
      this.dataStart = h.bodyOffset + indexBytes;
    } else {
      this.indexAt = bytes.length - indexBytes;
      this.dataStart = h.bodyOffset;
    }
    if (this.indexAt < h.bodyOffset || this.dataStart > bytes.length) throw malformed("the key-group offset index runs past the end (truncated or corrupt)");
    const total = this.view.getUint32(this.indexAt + 4 * groups);
    const expected = this.dataStart + total + (h.version === 1 ? 0 : indexBytes);
    if (expected !== bytes.length) {
      throw malformed(`length mismatch: the index says ${expected} bytes, got ${bytes.length} (truncated or corrupt)`);
    }
  }

  /** The encoded section of `keyGroup` (a view, no copy); empty when the group holds nothing. */
  groupBytes(keyGroup: number): Uint8Array {
    const { start, end } = this.keyGroupRange;
    if (keyGroup < start || keyGroup > end) throw malformed(`key group ${keyGroup} is outside the snapshot's range [${start}, ${end}]`);
    const at = this.indexAt + 4 * (keyGroup - start);
    const a = this.view.getUint32(at);
    const b = this.view.getUint32(at + 4);
    if (b < a || this.dataStart + b > (this.version === 1 ? this.bytes.length : this.indexAt))
      throw malformed(`bad offsets [${a}, ${b}) for key group ${keyGroup}`);
    return this.bytes.subarray(this.dataStart + a, this.dataStart + b);
  }

  /** Decodes the section of `keyGroup` (`[stateIndex, entries, ...]`), or undefined when it is empty. */
  decodeGroup(keyGroup: number): unknown[] | undefined {
    const b = this.groupBytes(keyGroup);
    if (b.length === 0) return undefined;
    snapshotDecodeStats.keyGroupsDecoded++;
    snapshotDecodeStats.bytesDecoded += b.length;
    let v: unknown;
    try {
      v = unpackData(b);
    } catch (err) {
      throw malformed(`key group ${keyGroup} is not valid MessagePack`, err);
    }
    if (!Array.isArray(v) || v.length % 2 !== 0) throw malformed(`key group ${keyGroup}: section is not a [stateIndex, entries, ...] array`);
    for (let i = 0; i < v.length; i += 2) {
      const s = v[i];
      if (typeof s !== "number" || !(s >= 0 && s < this.states.length) || !Array.isArray(v[i + 1]) || (v[i + 1] as unknown[]).length % 2 !== 0) {
        throw malformed(`key group ${keyGroup}: bad entries for state index ${String(s)}`);
      }
    }
    return v;
  }
}

/** Writes an operator snapshot: one entry list per descriptor, in the same order. */
export function writeOperatorSnapshot(states: readonly OperatorStateDescriptor[], lists: readonly (readonly unknown[])[]): Uint8Array {
  const descriptors = packData(states.map((s) => ({ name: s.name, mode: s.mode })));
  const body = packData(lists);
  const out = new Uint8Array(SNAPSHOT_HEADER_BYTES + descriptors.length + body.length);
  writeHeader(out, KIND_OPERATOR, 0, 0, -1, descriptors);
  out.set(body, SNAPSHOT_HEADER_BYTES + descriptors.length);
  return out;
}

/** Reads a whole operator snapshot. */
export function readOperatorSnapshot(bytes: Uint8Array): { states: OperatorStateDescriptor[]; lists: unknown[][] } {
  const h = readSnapshotHeader(bytes);
  if (h.kind !== "operator") throw malformed("expected an operator snapshot, got a keyed snapshot");
  let lists: unknown;
  try {
    lists = unpackData(bytes.subarray(h.bodyOffset));
  } catch (err) {
    throw malformed("operator state body is not valid MessagePack", err);
  }
  if (!Array.isArray(lists) || lists.length !== h.states.length || !lists.every((l) => Array.isArray(l))) {
    throw malformed(`operator state body must hold ${h.states.length} lists`);
  }
  return { states: h.states, lists: lists as unknown[][] };
}
