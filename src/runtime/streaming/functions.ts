/**
 * The user functions of the stream API (Flink's MapFunction, KeyedProcessFunction, AggregateFunction,
 * ProcessWindowFunction, SinkFunction ...): what a job file writes and what the stream operators call.
 * Types only, so job bundles that import them stay small.
 *
 * User functions are shared by every subtask of an operator that runs in the same worker thread: keep
 * per-key data in keyed state and per-subtask data in the objects that factories (sources, sinks)
 * create per subtask.
 */
import type { AggregatingState, ListState, MapState, ReducingState, ValueState } from "../../state/api.js";

/** Collects the output records of a function (Flink's Collector). */
export interface Collector<T> {
  collect(value: T): void;
}

/** `value → one record` (Flink's MapFunction). */
export type MapFunction<T, R> = (value: T) => R;
/** `value → zero or more records` (Flink's FlatMapFunction). */
export type FlatMapFunction<T, R> = (value: T, out: Collector<R>) => void;
/** Keeps the records it returns true for (Flink's FilterFunction). */
export type FilterFunction<T> = (value: T) => boolean;
/** The key of a record: a string or a number (Flink's KeySelector). */
export type KeySelector<T, K extends KeyType> = (value: T) => K;
/** What keys may be: they are hashed to key groups and kept in keyed state. */
export type KeyType = string | number;
/** Combines two values of one key (Flink's ReduceFunction). */
export type ReduceFunction<T> = (a: T, b: T) => T;
/** The event time (ms) of an element, read from the element itself (Flink's TimestampAssigner). */
export type TimestampAssigner<T> = (element: T) => number;

/** Flink's AggregateFunction, with `merge` (needed by session windows). */
export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  /**
   * Adds `value` and returns the accumulator: `accumulator` itself, changed in place, or a new one.
   * Changing it in place is safe while a checkpoint is written: the state backend copies a value a
   * snapshot still holds before handing it out.
   */
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
  /** Merges two accumulators (session windows merge windows); required there. May change and return `a`. */
  merge?(a: ACC, b: ACC): ACC;
}

/** A named side output of an operator (Flink's OutputTag); `T` is its element type. */
export class OutputTag<T> {
  /** Phantom: the element type, for the compiler only. */
  declare readonly __type?: T;
  constructor(readonly id: string) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new Error(`an OutputTag id must match [A-Za-z0-9_-]{1,64}, got ${JSON.stringify(id)}`);
  }
}

/** Which subtask runs a function. */
export interface RuntimeInfo {
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly vertexId: string;
}

/** Keyed state of the current key, by name (Flink's RuntimeContext state access in a keyed function). */
export interface KeyedStateStore {
  getValueState<T>(name: string): ValueState<T>;
  getListState<T>(name: string): ListState<T>;
  getMapState<K extends string | number | boolean, V>(name: string): MapState<K, V>;
  getReducingState<T>(name: string, reduce: (a: T, b: T) => T): ReducingState<T>;
  getAggregatingState<IN, ACC, OUT>(
    name: string,
    fn: { createAccumulator(): ACC; add(v: IN, acc: ACC): ACC; getResult(acc: ACC): OUT },
  ): AggregatingState<IN, OUT>;
}

/** Timers of the current key (Flink's TimerService). */
export interface TimerService {
  currentProcessingTime(): number;
  /** The operator's event-time watermark (-Infinity before the first one). */
  currentWatermark(): number;
  /** Calls `onTimer` once the watermark reaches `time` (at most once per key and time). */
  registerEventTimeTimer(time: number): void;
  /** Calls `onTimer` once the wall clock reaches `time` (ms since the epoch). */
  registerProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
}

/** What a process function sees of the element being processed. */
export interface ProcessContext {
  /** The element's event time when the stream has timestamps (assignTimestampsAndWatermarks), else undefined. */
  timestamp(): number | undefined;
  /** Emits `value` to the side output `tag`. */
  output<X>(tag: OutputTag<X>, value: X): void;
  readonly info: RuntimeInfo;
}

/** The context of a keyed process function call. */
export interface KeyedProcessContext<K> extends ProcessContext {
  getCurrentKey(): K;
  timerService(): TimerService;
  /** Keyed state of the current key. */
  readonly state: KeyedStateStore;
}

/** The context of a timer call. */
export interface OnTimerContext<K> extends KeyedProcessContext<K> {
  timeDomain(): "EVENT_TIME" | "PROCESSING_TIME";
}

/** Flink's ProcessFunction (non-keyed: no keyed state, no timers). */
export interface ProcessFunction<I, O> {
  processElement(value: I, ctx: ProcessContext, out: Collector<O>): void;
}

/** Flink's KeyedProcessFunction: per-key state and timers in event and processing time. */
export interface KeyedProcessFunction<K, I, O> {
  processElement(value: I, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
}

/** Flink's CoProcessFunction over two connected streams (keyed when both inputs are keyed). */
export interface CoProcessFunction<I1, I2, O, K = unknown> {
  processElement1(value: I1, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  processElement2(value: I2, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
}

/** A time window `[start, end)` in ms (Flink's TimeWindow). */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** Flink's ProcessWindowFunction, given what the window aggregated: every element or the aggregate. */
export type WindowFunction<IN, OUT, K> = (key: K, window: TimeWindow, input: IN, out: Collector<OUT>) => void;

/** An all-window function (Flink's ProcessAllWindowFunction): a window of a non-keyed stream and what it aggregated. */
export type AllWindowFunction<IN, OUT> = (window: TimeWindow, input: IN, out: Collector<OUT>) => void;

/** One output per pair of a window join (Flink's JoinFunction). */
export type JoinFunction<IN1, IN2, OUT> = (first: IN1, second: IN2) => OUT;
/** Any number of outputs per pair of a window join (Flink's FlatJoinFunction). */
export type FlatJoinFunction<IN1, IN2, OUT> = (first: IN1, second: IN2, out: Collector<OUT>) => void;
/** Both groups of one key and window of a coGroup, either possibly empty (Flink's CoGroupFunction). */
export type CoGroupFunction<IN1, IN2, OUT> = (first: IN1[], second: IN2[], out: Collector<OUT>) => void;

/** What a ProcessJoinFunction sees of the pair being joined. */
export interface ProcessJoinContext {
  /** The left element's event time. */
  leftTimestamp(): number;
  /** The right element's event time. */
  rightTimestamp(): number;
  /** The pair's event time: the larger of the two. */
  timestamp(): number;
  /** Emits `value` to the side output `tag`. */
  output<X>(tag: OutputTag<X>, value: X): void;
  readonly info: RuntimeInfo;
}

/** Flink's ProcessJoinFunction: called once per pair of an interval join. */
export interface ProcessJoinFunction<IN1, IN2, OUT> {
  processElement(left: IN1, right: IN2, ctx: ProcessJoinContext, out: Collector<OUT>): void;
}

/** A sink written in user code (Flink's SinkFunction with checkpoint hooks); one instance per subtask. */
export interface SinkFunction<T> {
  /** Called once before the first record, with the state it snapshotted last (undefined on a fresh start). */
  open?(info: RuntimeInfo, restored: unknown[] | undefined): void | Promise<void>;
  invoke(value: T): void;
  /** Synchronous part of a checkpoint: return what to keep (operator state, redistributed even-split on rescale). */
  snapshotState?(checkpointId: number): unknown[];
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  /** End of input (bounded streams), before the task finishes. */
  finish?(): void | Promise<void>;
}

/** What a user source emits through. */
export interface SourceContext<T> {
  collect(value: T): void;
  /** Emits an event-time watermark (for sources that know their event time). */
  emitWatermark(watermark: number): void;
  readonly info: RuntimeInfo;
}

/**
 * A source written in user code (Flink's SourceFunction with CheckpointedFunction); one instance per
 * subtask. `run` is called repeatedly until it returns false (end of input): emit a bounded chunk of
 * records per call, so checkpoints and cancellation can happen between calls.
 */
export interface SourceFunction<T> {
  /** With what `snapshotState` returned (union of all subtasks' lists on rescale), or undefined on a fresh start. */
  open?(info: RuntimeInfo, restored: unknown[] | undefined): void | Promise<void>;
  /** Emits the next records; resolves to false at the end of input. */
  run(ctx: SourceContext<T>): boolean | Promise<boolean>;
  snapshotState?(checkpointId: number): unknown[];
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
}
