/**
 * Key groups: Flink's unit of keyed-state distribution (KeyGroupRangeAssignment).
 *
 * A key is hashed ({@link keyHash}), the hash is scrambled with Flink's `MathUtils.murmurHash` and taken
 * modulo the max parallelism: that is the key group. Key groups are assigned to operator subtasks in
 * contiguous ranges, so a rescale moves whole ranges.
 *
 * {@link keyHash} follows Java's `hashCode()` for the JSON-like types, so an Eddy job places an int or a
 * string key in the same key group (and subtask) as Flink does for an `Integer` or `String` key:
 * - string: `String.hashCode()` over UTF-16 code units (`h = 31 * h + c`), no allocation;
 * - number: an integer in the int32 range hashes as `Integer.hashCode()` (itself); any other integer as
 *   `Long.hashCode()`; a non-integer as `Double.hashCode()` (NaN canonical);
 * - boolean: `Boolean.hashCode()` (1231 / 1237); null and undefined: 0; bigint: `Long.hashCode()` of its
 *   low 64 bits;
 * - array: `List.hashCode()` (`h = 31 * h + hash(e)` from 1); Uint8Array: `Arrays.hashCode(byte[])`;
 *   Date: its epoch milliseconds as a long;
 * - plain object and Map: `Map.hashCode()` (sum of `hash(key) ^ hash(value)` over own enumerable
 *   entries, so property order does not matter); Set: sum of element hashes.
 * The result depends only on the value, never on the process, so every producer agrees.
 */
import { EddyError, ErrorCode, ValidationError } from "../core/errors.js";

/** Lower bound of the default max parallelism (Flink's DEFAULT_LOWER_BOUND_MAX_PARALLELISM). */
export const DEFAULT_LOWER_BOUND_MAX_PARALLELISM = 128;
/** Upper bound of any max parallelism (Flink's UPPER_BOUND_MAX_PARALLELISM, 2^15). */
export const UPPER_BOUND_MAX_PARALLELISM = 32768;

/** A contiguous, inclusive range of key groups `[start, end]`; empty when `end < start`. */
export interface KeyGroupRange {
  readonly start: number;
  readonly end: number;
}

/** The smallest power of two `>= x` (x in 1..2^30). */
export function roundUpToPowerOfTwo(x: number): number {
  if (x <= 1) return 1;
  return 2 ** (32 - Math.clz32(x - 1));
}

/** Flink's default max parallelism for an operator of parallelism `p`: `min(max(roundUpToPowerOfTwo(p + p/2), 128), 32768)`. */
export function defaultMaxParallelism(p: number): number {
  const x = roundUpToPowerOfTwo(p + Math.floor(p / 2));
  return Math.min(Math.max(x, DEFAULT_LOWER_BOUND_MAX_PARALLELISM), UPPER_BOUND_MAX_PARALLELISM);
}

/**
 * Flink's `MathUtils.murmurHash(int)`: one Murmur3 32-bit block with seed 0 and length 4, then the
 * fmix32 finalizer, made non-negative (`Integer.MIN_VALUE` maps to 0).
 */
export function murmurHash(code: number): number {
  let h = Math.imul(code | 0, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  h = Math.imul(h, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  h ^= 4;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  if (h >= 0) return h;
  return h === -2147483648 ? 0 : -h;
}

const f64 = new DataView(new ArrayBuffer(8));

/** `String.hashCode()`: 31-polynomial over UTF-16 code units, as int32. */
export function stringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

function numberHash(n: number): number {
  if (Number.isInteger(n)) {
    if (n >= -2147483648 && n <= 2147483647) return n | 0;
    if (Number.isSafeInteger(n)) {
      const hi = Math.floor(n / 4294967296);
      const lo = n - hi * 4294967296;
      return (lo ^ hi) | 0;
    }
  }
  if (Number.isNaN(n)) return 0x7ff80000;
  f64.setFloat64(0, n);
  return (f64.getInt32(0) ^ f64.getInt32(4)) | 0;
}

function bigintHash(v: bigint): number {
  const lo = Number(BigInt.asUintN(32, v));
  const hi = Number(BigInt.asUintN(32, v >> 32n));
  return (lo ^ hi) | 0;
}

/** A stable, process-independent 32-bit hash of a key (Java `hashCode()` semantics, see the module doc). */
export function keyHash(key: unknown): number {
  switch (typeof key) {
    case "string":
      return stringHash(key);
    case "number":
      return numberHash(key);
    case "boolean":
      return key ? 1231 : 1237;
    case "undefined":
      return 0;
    case "bigint":
      return bigintHash(key);
    case "object":
      return objectHash(key);
    default:
      throw new ValidationError(ErrorCode.InvalidStateAccess, `cannot hash a key of type ${typeof key}: use a string, number, boolean, array or plain object`);
  }
}

function objectHash(o: object | null): number {
  if (o === null) return 0;
  if (Array.isArray(o)) {
    let h = 1;
    for (let i = 0; i < o.length; i++) h = (Math.imul(h, 31) + keyHash(o[i])) | 0;
    return h;
  }
  if (o instanceof Uint8Array) {
    let h = 1;
    for (let i = 0; i < o.length; i++) h = (Math.imul(h, 31) + ((o[i]! << 24) >> 24)) | 0;
    return h;
  }
  if (o instanceof Date) return numberHash(o.getTime());
  if (o instanceof Map) {
    let h = 0;
    for (const [k, v] of o) h = (h + (keyHash(k) ^ keyHash(v))) | 0;
    return h;
  }
  if (o instanceof Set) {
    let h = 0;
    for (const v of o) h = (h + keyHash(v)) | 0;
    return h;
  }
  let h = 0;
  const rec = o as Record<string, unknown>;
  for (const k in rec) {
    if (Object.hasOwn(rec, k)) h = (h + (stringHash(k) ^ keyHash(rec[k]))) | 0;
  }
  return h;
}

/** The key group of a key hash: `murmurHash(hash) % maxParallelism`. */
export function keyGroupForHash(hash: number, maxParallelism: number): number {
  return murmurHash(hash) % maxParallelism;
}

/** The key group of a key: `murmurHash(keyHash(key)) % maxParallelism` (Flink's assignToKeyGroup). */
export function keyGroupFor(key: unknown, maxParallelism: number): number {
  return murmurHash(keyHash(key)) % maxParallelism;
}

/** The operator subtask owning a key group: `floor(keyGroup * parallelism / maxParallelism)`. */
export function operatorIndexForKeyGroup(maxParallelism: number, parallelism: number, keyGroup: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/** The operator subtask a key goes to (Flink's assignKeyToParallelOperator). */
export function operatorIndexForKey(key: unknown, maxParallelism: number, parallelism: number): number {
  return operatorIndexForKeyGroup(maxParallelism, parallelism, keyGroupFor(key, maxParallelism));
}

function checkParallelism(maxParallelism: number, parallelism: number): void {
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > UPPER_BOUND_MAX_PARALLELISM) {
    throw new EddyError(ErrorCode.InvalidParallelism, `max parallelism must be an integer in 1..${UPPER_BOUND_MAX_PARALLELISM}, got ${maxParallelism}`);
  }
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > maxParallelism) {
    throw new EddyError(ErrorCode.InvalidParallelism, `parallelism must be an integer in 1..maxParallelism (${maxParallelism}), got ${parallelism}`);
  }
}

/**
 * The key groups of operator subtask `operatorIndex` (Flink's computeKeyGroupRangeForOperatorIndex):
 * `start = ceil(i * maxP / p)`, `end = floor(((i + 1) * maxP - 1) / p)`, inclusive.
 */
export function keyGroupRange(maxParallelism: number, parallelism: number, operatorIndex: number): KeyGroupRange {
  checkParallelism(maxParallelism, parallelism);
  const start = Math.floor((operatorIndex * maxParallelism + parallelism - 1) / parallelism);
  const end = Math.floor(((operatorIndex + 1) * maxParallelism - 1) / parallelism);
  return { start, end };
}

/** True when `keyGroup` lies in `range`. */
export function rangeContains(range: KeyGroupRange, keyGroup: number): boolean {
  return keyGroup >= range.start && keyGroup <= range.end;
}

/** Number of key groups in `range`. */
export function rangeSize(range: KeyGroupRange): number {
  return Math.max(0, range.end - range.start + 1);
}
