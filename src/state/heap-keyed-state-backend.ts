/**
 * Keyed state on the JS heap (Flink's HeapKeyedStateBackend): every state is a table with one `Map`
 * per key group of this subtask's range, so a snapshot is written and a rescale is restored key group
 * by key group (src/state/snapshot-format.ts). Values are kept by reference, never copied on access,
 * except while a snapshot is being written: then the tables copy on write (copy-on-write-state-table.ts),
 * so {@link HeapKeyedStateBackend.snapshotAsync} costs O(key groups) and the serialization runs later.
 *
 * Keys: strings, numbers, booleans, null/undefined are used as `Map` keys as they are (a `Map` keeps
 * `"1"`, `1` and `true` apart). Arrays and plain objects of those are normalized to a canonical string
 * (`"\0"` + JSON with sorted object keys); a string key that itself starts with `"\0"` is escaped
 * with one more `"\0"`, so the two never collide. Snapshots hold the original key (decoded back).
 */
import { ConflictError, EddyError, ErrorCode, ValidationError, InternalError } from "../core/errors.js";
import type { AggregateFunction, AggregatingState, KeyedStateBackend, ListState, MapState, ReducingState, ValueState } from "./api.js";
import { keyGroupFor, type KeyGroupRange, UPPER_BOUND_MAX_PARALLELISM } from "./key-groups.js";
import { KeyedSnapshotReader, type KeyedStateDescriptor, type KeyedStateType } from "./snapshot-format.js";
import { HeapKeyedStateSnapshot, StateTable, type GroupMap } from "./copy-on-write-state-table.js";

const EMPTY_LIST: readonly never[] = Object.freeze([]);
const EMPTY_MAP = new Map<never, never>();

/** The Map key of a user key (see the module doc). Throws for key types that have no stable identity. */
export function normalizeKey(key: unknown): unknown {
  switch (typeof key) {
    case "string":
      return key.charCodeAt(0) === 0 ? `\0${key}` : key;
    case "number":
    case "boolean":
    case "undefined":
      return key;
    case "object":
      return key === null ? null : `\0${canonical(key)}`;
    default:
      throw new ValidationError(
        ErrorCode.InvalidStateAccess,
        `a state key cannot be a ${typeof key}: use strings, numbers, booleans, or arrays and plain objects of those`,
      );
  }
}

/** The user key of a normalized Map key. */
export function denormalizeKey(mapKey: unknown): unknown {
  if (typeof mapKey !== "string" || mapKey.charCodeAt(0) !== 0) return mapKey;
  return mapKey.charCodeAt(1) === 0 ? mapKey.slice(1) : JSON.parse(mapKey.slice(1));
}

function canonical(v: unknown): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
      if (!Number.isFinite(v)) break;
      return v === 0 ? "0" : String(v);
    case "object": {
      if (v === null) return "null";
      if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) break;
      const o = v as Record<string, unknown>;
      return `{${Object.keys(o)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
        .join(",")}}`;
    }
  }
  throw new ValidationError(
    ErrorCode.InvalidStateAccess,
    `unsupported value inside a composite state key: ${String(v)} (use strings, finite numbers, booleans, null, arrays, plain objects)`,
  );
}

/** Where every handle reads: the current key, its Map key and its key group's index in the range. */
class KeyCursor {
  key: unknown = undefined;
  mapKey: unknown = undefined;
  group = -1;
}

function noKey(): EddyError {
  return new InternalError("keyed state accessed with no current key: call setCurrentKey first");
}

abstract class Handle {
  constructor(
    protected readonly c: KeyCursor,
    protected readonly t: StateTable,
  ) {}
  protected read(): GroupMap | undefined {
    const g = this.c.group;
    if (g < 0) throw noKey();
    return this.t.groups[g];
  }
  protected write(): GroupMap {
    const g = this.c.group;
    if (g < 0) throw noKey();
    return this.t.writable(g);
  }
  /** The current key's value, safe to change in place (copied first while a snapshot holds it). */
  protected mutable<V>(): V | undefined {
    const v = this.read()?.get(this.c.mapKey) as V | undefined;
    if (v === undefined || this.t.frozen.length === 0 || typeof v !== "object" || v === null) return v;
    return this.t.own(this.c.group, this.write(), this.c.mapKey, v);
  }
  clear(): void {
    if (this.read()?.has(this.c.mapKey)) this.write().delete(this.c.mapKey);
  }
}

function checkElement(name: string, v: unknown): void {
  if (v === undefined || v === null)
    throw new ValidationError(ErrorCode.InvalidStateAccess, `list state "${name}": null and undefined elements are not allowed`);
}

class HeapValueState<T> extends Handle implements ValueState<T> {
  /** While a snapshot is written, an object value is copied before it is answered (it may be changed in place). */
  value(): T | undefined {
    return this.mutable<T>();
  }
  /** Like Flink, `update(null)` (or undefined) clears the value. */
  update(value: T): void {
    if (value === undefined || value === null) this.clear();
    else this.write().set(this.c.mapKey, value);
  }
}

class HeapListState<T> extends Handle implements ListState<T> {
  get(): readonly T[] {
    return (this.read()?.get(this.c.mapKey) as T[] | undefined) ?? EMPTY_LIST;
  }
  add(value: T): void {
    checkElement(this.t.name, value);
    const list = this.mutable<T[]>();
    if (list === undefined) this.write().set(this.c.mapKey, [value]);
    else list.push(value);
  }
  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    for (const v of values) checkElement(this.t.name, v);
    const list = this.mutable<T[]>();
    if (list === undefined) this.write().set(this.c.mapKey, values.slice());
    else for (const v of values) list.push(v);
  }
  update(values: readonly T[]): void {
    if (values.length === 0) {
      this.clear();
      return;
    }
    for (const v of values) checkElement(this.t.name, v);
    this.write().set(this.c.mapKey, values.slice());
  }
}

class HeapMapState<K extends string | number | boolean, V> extends Handle implements MapState<K, V> {
  /** The inner map; while a snapshot is written it is copied first (its values may be changed in place). */
  private inner(): Map<K, V> | undefined {
    return this.mutable<Map<K, V>>();
  }
  get(key: K): V | undefined {
    return this.inner()?.get(key);
  }
  put(key: K, value: V): void {
    let inner = this.inner();
    if (inner === undefined) this.write().set(this.c.mapKey, (inner = new Map()));
    inner.set(key, value);
  }
  /** Reads before it writes: a present entry costs no copy while a snapshot holds the key's map. */
  putIfAbsent(key: K, value: V): boolean {
    const cur = this.read()?.get(this.c.mapKey) as Map<K, V> | undefined;
    if (cur?.has(key)) return false;
    if (cur !== undefined && this.t.frozen.length === 0) cur.set(key, value);
    else this.put(key, value);
    return true;
  }
  remove(key: K): boolean {
    const inner = this.inner();
    if (!inner?.delete(key)) return false;
    if (inner.size === 0) this.clear();
    return true;
  }
  contains(key: K): boolean {
    return (this.read()?.get(this.c.mapKey) as Map<K, V> | undefined)?.has(key) ?? false;
  }
  entries(): IterableIterator<[K, V]> {
    return (this.inner() ?? (EMPTY_MAP as unknown as Map<K, V>)).entries();
  }
  keys(): IterableIterator<K> {
    return (this.inner() ?? (EMPTY_MAP as unknown as Map<K, V>)).keys();
  }
  values(): IterableIterator<V> {
    return (this.inner() ?? (EMPTY_MAP as unknown as Map<K, V>)).values();
  }
  isEmpty(): boolean {
    return this.read()?.get(this.c.mapKey) === undefined;
  }
}

class HeapReducingState<T> extends Handle implements ReducingState<T> {
  constructor(
    c: KeyCursor,
    t: StateTable,
    private readonly reduce: (a: T, b: T) => T,
  ) {
    super(c, t);
  }
  get(): T | undefined {
    return this.mutable<T>();
  }
  add(value: T): void {
    const cur = this.mutable<T>();
    this.write().set(this.c.mapKey, cur === undefined ? value : this.reduce(cur, value));
  }
}

class HeapAggregatingState<IN, ACC, OUT> extends Handle implements AggregatingState<IN, OUT> {
  constructor(
    c: KeyCursor,
    t: StateTable,
    private readonly fn: AggregateFunction<IN, ACC, OUT>,
  ) {
    super(c, t);
  }
  get(): OUT | undefined {
    const acc = this.mutable<ACC>();
    return acc === undefined ? undefined : this.fn.getResult(acc);
  }
  add(value: IN): void {
    const acc = this.mutable<ACC>();
    this.write().set(this.c.mapKey, this.fn.add(value, acc === undefined ? this.fn.createAccumulator() : acc));
  }
}

/** Options of a {@link HeapKeyedStateBackend}. */
export interface HeapKeyedStateBackendOptions {
  maxParallelism: number;
  /** The key groups of this subtask (inclusive), usually `keyGroupRange(maxP, p, subtaskIndex)`. */
  keyGroupRange: KeyGroupRange;
}

/** Keyed state of one subtask on the heap; snapshots in the canonical format; restores from any old parallelism. */
export class HeapKeyedStateBackend implements KeyedStateBackend {
  readonly maxParallelism: number;
  readonly keyGroupRange: { start: number; end: number };
  private readonly numGroups: number;
  private readonly cursor = new KeyCursor();
  private readonly tables = new Map<string, StateTable>();
  private readonly handles = new Map<string, Handle>();

  constructor(options: HeapKeyedStateBackendOptions) {
    const { maxParallelism: maxP, keyGroupRange: r } = options;
    if (!Number.isInteger(maxP) || maxP < 1 || maxP > UPPER_BOUND_MAX_PARALLELISM) {
      throw new ValidationError(ErrorCode.InvalidParallelism, `max parallelism must be an integer in 1..${UPPER_BOUND_MAX_PARALLELISM}, got ${maxP}`);
    }
    if (!Number.isInteger(r.start) || !Number.isInteger(r.end) || r.start < 0 || r.end < r.start || r.end >= maxP) {
      throw new ValidationError(ErrorCode.InvalidParallelism, `key-group range [${r.start}, ${r.end}] is not a non-empty range inside 0..${maxP - 1}`);
    }
    this.maxParallelism = maxP;
    this.keyGroupRange = { start: r.start, end: r.end };
    this.numGroups = r.end - r.start + 1;
  }

  /** Sets the key for all state accesses; a key whose group is outside this subtask's range is a partitioning bug. */
  setCurrentKey(key: unknown): void {
    const mapKey = normalizeKey(key);
    const kg = keyGroupFor(key, this.maxParallelism);
    const g = kg - this.keyGroupRange.start;
    if (g < 0 || g >= this.numGroups) {
      throw new InternalError(
        `key ${JSON.stringify(key)} is in key group ${kg}, outside this subtask's range [${this.keyGroupRange.start}, ${this.keyGroupRange.end}] (max parallelism ${this.maxParallelism}): records are partitioned wrongly`,
      );
    }
    const c = this.cursor;
    c.key = key;
    c.mapKey = mapKey;
    c.group = g;
  }

  getCurrentKey(): unknown {
    return this.cursor.key;
  }

  /** The key group of the current key (-1 before the first setCurrentKey). */
  getCurrentKeyGroup(): number {
    return this.cursor.group < 0 ? -1 : this.cursor.group + this.keyGroupRange.start;
  }

  getValueState<T>(name: string): ValueState<T> {
    return this.handle(name, "value", (t) => new HeapValueState<T>(this.cursor, t)) as HeapValueState<T>;
  }
  getListState<T>(name: string): ListState<T> {
    return this.handle(name, "list", (t) => new HeapListState<T>(this.cursor, t)) as HeapListState<T>;
  }
  getMapState<K extends string | number | boolean, V>(name: string): MapState<K, V> {
    return this.handle(name, "map", (t) => new HeapMapState<K, V>(this.cursor, t)) as HeapMapState<K, V>;
  }
  /** The handle is cached: a second call with the same name returns it (with the first reduce function). */
  getReducingState<T>(name: string, reduce: (a: T, b: T) => T): ReducingState<T> {
    return this.handle(name, "reducing", (t) => new HeapReducingState<T>(this.cursor, t, reduce)) as HeapReducingState<T>;
  }
  /** The handle is cached: a second call with the same name returns it (with the first function). */
  getAggregatingState<IN, ACC, OUT>(name: string, fn: AggregateFunction<IN, ACC, OUT>): AggregatingState<IN, OUT> {
    return this.handle(name, "aggregating", (t) => new HeapAggregatingState<IN, ACC, OUT>(this.cursor, t, fn)) as HeapAggregatingState<IN, ACC, OUT>;
  }

  /** Registered states (including restored ones not yet asked for), in registration order. */
  stateDescriptors(): KeyedStateDescriptor[] {
    return [...this.tables.values()].map((t) => ({ name: t.name, type: t.type }));
  }

  /** True when no state holds data for any key (cheaper than `numKeys() === 0`). */
  isEmpty(): boolean {
    for (const t of this.tables.values()) for (const m of t.groups) if (m !== undefined && m.size > 0) return false;
    return true;
  }

  /** Number of keys with any state (all states together; O(keys x states) lookups, no allocation). */
  numKeys(): number {
    const tables = [...this.tables.values()];
    let n = 0;
    for (let g = 0; g < this.numGroups; g++) {
      for (let i = 0; i < tables.length; i++) {
        const m = tables[i]!.groups[g];
        if (m === undefined || m.size === 0) continue;
        let first = true;
        for (let j = 0; j < i && first; j++) if (tables[j]!.groups[g]?.size) first = false;
        if (first) {
          n += m.size;
          continue;
        }
        // count the keys no earlier state of this key group holds
        for (const k of m.keys()) {
          let seen = false;
          for (let j = 0; j < i && !seen; j++) seen = tables[j]!.groups[g]?.has(k) ?? false;
          if (!seen) n++;
        }
      }
    }
    return n;
  }

  /** The keys (original values) that have data in state `name`. */
  *keys(name: string): IterableIterator<unknown> {
    const t = this.tables.get(name);
    if (t === undefined) return;
    for (const m of t.groups) if (m !== undefined) for (const k of m.keys()) yield denormalizeKey(k);
  }

  /**
   * A consistent snapshot of all states in the canonical format, all at once (synchronous). A task
   * uses {@link snapshotAsync} instead, which pauses processing only for O(key groups).
   */
  snapshot(): Uint8Array {
    return this.snapshotAsync().readAll();
  }

  /**
   * The synchronous part of a checkpoint (Flink's copy-on-write heap snapshot): captures the state as
   * it is now in O(states x key groups), without touching an entry. The returned snapshot serializes
   * key group by key group when read; writes made meanwhile copy first and never reach it. Read it
   * to the end or {@link HeapKeyedStateSnapshot.release} it, else every later write keeps copying.
   */
  snapshotAsync(): HeapKeyedStateSnapshot {
    const tables = [...this.tables.values()];
    return new HeapKeyedStateSnapshot(
      { maxParallelism: this.maxParallelism, keyGroupRange: this.keyGroupRange, states: this.stateDescriptors() },
      tables,
      buildSection,
    );
  }

  /**
   * Restores the key groups of this backend's range from snapshots of any old parallelism (normally
   * all old subtasks' snapshots, or those whose ranges overlap ours): only the overlapping key groups
   * are decoded. The max parallelism must be the same (like Flink, it cannot change on restore).
   */
  restore(snapshots: readonly Uint8Array[]): void {
    const seen = new Uint8Array(this.numGroups);
    const { start, end } = this.keyGroupRange;
    for (const bytes of snapshots) {
      const r = new KeyedSnapshotReader(bytes);
      if (r.maxParallelism !== this.maxParallelism) {
        throw new ValidationError(
          ErrorCode.InvalidParallelism,
          `cannot restore keyed state written with max parallelism ${r.maxParallelism} into max parallelism ${this.maxParallelism}: the max parallelism of a stateful operator cannot change`,
        );
      }
      const lo = Math.max(start, r.keyGroupRange.start);
      const hi = Math.min(end, r.keyGroupRange.end);
      if (lo > hi) continue;
      const tables = r.states.map((d) => this.table(d.name, d.type));
      for (let kg = lo; kg <= hi; kg++) {
        const g = kg - start;
        if (seen[g]) throw new EddyError(ErrorCode.StateCorrupt, `key group ${kg} appears in two of the snapshots to restore (overlapping key-group ranges)`);
        seen[g] = 1;
        const section = r.decodeGroup(kg);
        if (section === undefined) continue;
        for (let i = 0; i < section.length; i += 2) this.restoreEntries(tables[section[i] as number]!, g, kg, section[i + 1] as unknown[]);
      }
    }
  }

  private restoreEntries(t: StateTable, g: number, kg: number, flat: unknown[]): void {
    const m = t.writable(g);
    const isMap = t.type === "map";
    for (let j = 0; j < flat.length; j += 2) {
      const key = flat[j];
      if (keyGroupFor(key, this.maxParallelism) !== kg) {
        throw new EddyError(
          ErrorCode.StateCorrupt,
          `state "${t.name}": key ${JSON.stringify(key)} was stored under key group ${kg} but hashes to ${keyGroupFor(key, this.maxParallelism)}`,
        );
      }
      const v = flat[j + 1];
      m.set(normalizeKey(key), isMap ? unflattenMap(v) : v);
    }
  }

  private table(name: string, type: KeyedStateType): StateTable {
    let t = this.tables.get(name);
    if (t === undefined) {
      t = new StateTable(name, type, this.numGroups);
      this.tables.set(name, t);
    } else if (t.type !== type) {
      throw new ConflictError(ErrorCode.InvalidStateAccess, `keyed state "${name}" is a ${t.type} state, it cannot be used as a ${type} state`);
    }
    return t;
  }

  private handle(name: string, type: KeyedStateType, create: (t: StateTable) => Handle): Handle {
    const t = this.table(name, type);
    let h = this.handles.get(name);
    if (h === undefined) this.handles.set(name, (h = create(t)));
    return h;
  }
}

/** One key group's section (`[stateIndex, entries, ...]`) from the snapshot's maps of that group. */
function buildSection(tables: readonly StateTable[], maps: readonly (GroupMap | undefined)[]): unknown[] | undefined {
  let section: unknown[] | undefined;
  for (let s = 0; s < tables.length; s++) {
    const m = maps[s];
    if (m === undefined || m.size === 0) continue;
    const flat = new Array<unknown>(m.size * 2);
    let j = 0;
    const isMap = tables[s]!.type === "map";
    m.forEach((v, k) => {
      flat[j++] = denormalizeKey(k);
      flat[j++] = isMap ? flattenMap(v as Map<unknown, unknown>) : v;
    });
    (section ??= []).push(s, flat);
  }
  return section;
}

function flattenMap(m: Map<unknown, unknown>): unknown[] {
  const flat = new Array<unknown>(m.size * 2);
  let j = 0;
  m.forEach((v, k) => {
    flat[j++] = k;
    flat[j++] = v;
  });
  return flat;
}

function unflattenMap(v: unknown): Map<unknown, unknown> {
  if (!Array.isArray(v) || v.length % 2 !== 0) throw new EddyError(ErrorCode.StateCorrupt, "map state entry is not a flat [key, value, ...] array");
  const m = new Map<unknown, unknown>();
  for (let j = 0; j < v.length; j += 2) m.set(v[j], v[j + 1]);
  return m;
}
