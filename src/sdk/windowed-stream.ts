/**
 * Flink's WindowedStream over event time, and its window assigners: a keyed stream cut into
 * tumbling, sliding or session windows, with allowed lateness and late data to a side output.
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { AggregateFunction, OutputTag, ReduceFunction, WindowFunction } from "../runtime/streaming/functions.js";
import { checkWindowAssigner, type WindowAssignerSpec } from "../runtime/streaming/windows.js";
import type { DataStream, KeyedStream } from "./data-stream.js";

/** Tumbling event-time windows of `size` ms, starting at multiples of size (plus `offset`). */
export const TumblingEventTimeWindows = {
  of(size: number, offset = 0): WindowAssignerSpec {
    return checkWindowAssigner({ kind: "tumbling", size, offset }, "TumblingEventTimeWindows");
  },
};

/** Sliding event-time windows of `size` ms every `slide` ms (an element is in size/slide windows). */
export const SlidingEventTimeWindows = {
  of(size: number, slide: number, offset = 0): WindowAssignerSpec {
    return checkWindowAssigner({ kind: "sliding", size, slide, offset }, "SlidingEventTimeWindows");
  },
};

/** Session windows per key: a session ends after `gap` ms without elements. */
export const EventTimeSessionWindows = {
  withGap(gap: number): WindowAssignerSpec {
    return checkWindowAssigner({ kind: "session", gap }, "EventTimeSessionWindows");
  },
};

/** How a window assigner reads in a vertex name: `Tumbling(1000)`, `Sliding(1000, 100)`, `Session(500)`. */
export function windowLabel(assigner: WindowAssignerSpec): string {
  return assigner.kind === "session"
    ? `Session(${assigner.gap})`
    : assigner.kind === "tumbling"
      ? `Tumbling(${assigner.size})`
      : `Sliding(${assigner.size}, ${assigner.slide})`;
}

/** Checks an allowed lateness (ms); throws InvalidJobGraph. */
export function checkLateness(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new ValidationError(ErrorCode.InvalidJobGraph, `allowedLateness must be an integer >= 0 (ms), got ${ms}`);
  return ms;
}

/** A keyed stream cut into windows; finish it with reduce, aggregate or process. */
export class WindowedStream<T, K> {
  private lateness = 0;
  private lateTag: string | undefined;

  /** @internal */
  constructor(
    private readonly keyed: KeyedStream<T, K>,
    private readonly assigner: WindowAssignerSpec,
  ) {
    if (!keyed.inputs.every((i) => i.ts !== undefined)) {
      throw new ValidationError(ErrorCode.InvalidJobGraph, "event-time windows need timestamps: call assignTimestampsAndWatermarks(...) before keyBy(...)");
    }
  }

  /** Windows keep their state `ms` past their end; late elements within it fire the window again. */
  allowedLateness(ms: number): this {
    this.lateness = checkLateness(ms);
    return this;
  }

  /** Late elements (past every window's allowed lateness) go to side output `tag` instead of being dropped. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.lateTag = tag.id;
    return this;
  }

  /** Per window, the reduce of its elements; with `windowFn`, what it emits for (key, window, reduced). */
  reduce(fn: ReduceFunction<T>): DataStream<T>;
  reduce<R>(fn: ReduceFunction<T>, windowFn: WindowFunction<T, R, K>): DataStream<R>;
  // biome-ignore lint/suspicious/noExplicitAny: the implementation signature of the overloads above, which callers see instead
  reduce(fn: ReduceFunction<T>, windowFn?: WindowFunction<T, any, K>): DataStream<any> {
    return this.build("reduce", "Window Reduce", { fn, windowFn });
  }

  /** Per window, an AggregateFunction's result (it needs `merge` for session windows); with `windowFn`, what it emits. */
  aggregate<ACC, OUT>(agg: AggregateFunction<T, ACC, OUT>): DataStream<OUT>;
  aggregate<ACC, OUT, R>(agg: AggregateFunction<T, ACC, OUT>, windowFn: WindowFunction<OUT, R, K>): DataStream<R>;
  // biome-ignore lint/suspicious/noExplicitAny: the implementation signature of the overloads above, which callers see instead
  aggregate(agg: AggregateFunction<T, any, any>, windowFn?: WindowFunction<any, any, K>): DataStream<any> {
    return this.build("aggregate", "Window Aggregate", { fn: agg, windowFn });
  }

  /** Per window, `fn(key, window, elements, out)` over all its elements (kept in state until it fires). */
  process<R>(fn: WindowFunction<T[], R, K>): DataStream<R> {
    return this.build("process", "Window Process", { windowFn: fn });
  }

  private build<R>(mode: "reduce" | "aggregate" | "process", name: string, fns: Record<string, unknown>): DataStream<R> {
    const config: Record<string, unknown> = { assigner: this.assigner, mode };
    if (this.lateness > 0) config.allowedLateness = this.lateness;
    if (this.lateTag !== undefined) config.lateTag = this.lateTag;
    return this.keyed.operator<R>("eddy.stream.window", `${name} ${windowLabel(this.assigner)}`, fns, config);
  }
}
