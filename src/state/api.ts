/**
 * Keyed and operator state as invokables see it (Flink's KeyedStateBackend / OperatorStateBackend
 * and their State types). Keyed state is scoped to the current key, which the runtime or the
 * operator sets before touching state; each key belongs to one key group (src/state/key-groups.ts),
 * the unit in which keyed state is snapshotted and redistributed on rescaling.
 */

/** One value per key. */
export interface ValueState<T> {
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}

/** A list per key. */
export interface ListState<T> {
  get(): readonly T[];
  add(value: T): void;
  addAll(values: readonly T[]): void;
  update(values: readonly T[]): void;
  clear(): void;
}

/** A map per key (map keys are strings, numbers or booleans). */
export interface MapState<K extends string | number | boolean, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  /** Puts `value` under `key` unless `key` has an entry; true when it put (one lookup where `contains` then `put` take two). */
  putIfAbsent(key: K, value: V): boolean;
  /** Removes `key`'s entry; true when there was one. */
  remove(key: K): boolean;
  contains(key: K): boolean;
  entries(): IterableIterator<[K, V]>;
  keys(): IterableIterator<K>;
  values(): IterableIterator<V>;
  isEmpty(): boolean;
  clear(): void;
}

/** A value per key folded with a reduce function on every add. */
export interface ReducingState<T> {
  get(): T | undefined;
  add(value: T): void;
  clear(): void;
}

/** Flink's AggregateFunction: accumulates IN into ACC, reads OUT from ACC. */
export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, acc: ACC): ACC;
  getResult(acc: ACC): OUT;
}

/** A value per key folded with an aggregate function on every add. */
export interface AggregatingState<IN, OUT> {
  get(): OUT | undefined;
  add(value: IN): void;
  clear(): void;
}

/** Keyed state of one task: every state handle reads and writes under the current key. */
export interface KeyedStateBackend {
  readonly maxParallelism: number;
  /** The key groups this subtask owns (inclusive). */
  readonly keyGroupRange: { start: number; end: number };
  /** Sets the key that state accesses apply to (computes its key group once). */
  setCurrentKey(key: unknown): void;
  getCurrentKey(): unknown;
  getValueState<T>(name: string): ValueState<T>;
  getListState<T>(name: string): ListState<T>;
  getMapState<K extends string | number | boolean, V>(name: string): MapState<K, V>;
  getReducingState<T>(name: string, reduce: (a: T, b: T) => T): ReducingState<T>;
  getAggregatingState<IN, ACC, OUT>(name: string, fn: AggregateFunction<IN, ACC, OUT>): AggregatingState<IN, OUT>;
  /** Number of keys with any state (all states together). */
  numKeys(): number;
}

/** Operator (non-keyed) state of one task: named lists redistributed on rescaling. */
export interface OperatorStateBackend {
  /** Even-split redistribution: on restore each subtask gets a contiguous share of all entries. */
  getListState<T>(name: string): ListState<T>;
  /** Union redistribution: on restore every subtask gets all entries of all subtasks. */
  getUnionListState<T>(name: string): ListState<T>;
}
