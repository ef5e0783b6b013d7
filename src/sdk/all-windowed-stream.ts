/**
 * Flink's AllWindowedStream: a non-keyed stream cut into event-time windows (`windowAll`). As in
 * Flink, every element goes to one subtask (the operator's parallelism is 1): the stream is keyed by
 * one constant key and windowed like a keyed stream, so the windows are the keyed window operator's,
 * with its state, timers, allowed lateness and late data.
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { AggregateFunction, AllWindowFunction, OutputTag, ReduceFunction } from "../runtime/streaming/functions.js";
import type { WindowAssignerSpec } from "../runtime/streaming/windows.js";
import type { DataStream } from "./data-stream.js";
import { clip } from "./stream-graph.js";
import type { WindowedStream } from "./windowed-stream.js";

/** A non-keyed stream cut into windows; finish it with reduce, aggregate or process (apply). */
export class AllWindowedStream<T> {
  private readonly windowed: WindowedStream<T, number>;

  /** @internal */
  constructor(stream: DataStream<T>, assigner: WindowAssignerSpec) {
    if (!stream.inputs.every((i) => i.ts !== undefined)) {
      throw new ValidationError(ErrorCode.InvalidJobGraph, "windowAll needs timestamps: call assignTimestampsAndWatermarks(...) before windowAll(...)");
    }
    this.windowed = stream.keyBy(() => 0).window(assigner);
  }

  /** Windows keep their state `ms` past their end; late elements within it fire the window again. */
  allowedLateness(ms: number): this {
    this.windowed.allowedLateness(ms);
    return this;
  }

  /** Late elements (past every window's allowed lateness) go to side output `tag` instead of being dropped. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.windowed.sideOutputLateData(tag);
    return this;
  }

  /** Per window, the reduce of its elements; with `windowFn`, what it emits for (window, reduced). */
  reduce(fn: ReduceFunction<T>): DataStream<T>;
  reduce<R>(fn: ReduceFunction<T>, windowFn: AllWindowFunction<T, R>): DataStream<R>;
  // biome-ignore lint/suspicious/noExplicitAny: the implementation signature of the overloads above, which callers see instead
  reduce(fn: ReduceFunction<T>, windowFn?: AllWindowFunction<T, any>): DataStream<any> {
    return nonParallel(windowFn ? this.windowed.reduce(fn, (_k, w, r, out) => windowFn(w, r, out)) : this.windowed.reduce(fn));
  }

  /** Per window, an AggregateFunction's result (it needs `merge` for session windows); with `windowFn`, what it emits. */
  aggregate<ACC, OUT>(agg: AggregateFunction<T, ACC, OUT>): DataStream<OUT>;
  aggregate<ACC, OUT, R>(agg: AggregateFunction<T, ACC, OUT>, windowFn: AllWindowFunction<OUT, R>): DataStream<R>;
  // biome-ignore lint/suspicious/noExplicitAny: the implementation signature of the overloads above, which callers see instead
  aggregate(agg: AggregateFunction<T, any, any>, windowFn?: AllWindowFunction<any, any>): DataStream<any> {
    return nonParallel(windowFn ? this.windowed.aggregate(agg, (_k, w, r, out) => windowFn(w, r, out)) : this.windowed.aggregate(agg));
  }

  /** Per window, `fn(window, elements, out)` over all its elements (Flink's ProcessAllWindowFunction). */
  process<R>(fn: AllWindowFunction<T[], R>): DataStream<R> {
    return nonParallel(this.windowed.process<R>((_k, w, elements, out) => fn(w, elements, out)));
  }

  /** The same as {@link process} (Flink's AllWindowFunction). */
  apply<R>(fn: AllWindowFunction<T[], R>): DataStream<R> {
    return this.process(fn);
  }
}

/** The window vertex of windowAll runs in one subtask, as Flink's does. */
function nonParallel<R>(s: DataStream<R>): DataStream<R> {
  const node = s.node;
  node.name = clip(`All${node.name}`);
  node.parallelism = 1;
  node.nonParallel = "windowAll";
  return s;
}
