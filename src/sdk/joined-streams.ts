/**
 * Flink's JoinedStreams, the window join: `a.join(b).where(k1).equalTo(k2).window(assigner).apply(fn)`
 * is the inner join of the elements of both streams with equal keys in the same window, `fn` called
 * once per pair when the window fires. As in Flink it is a coGroup (co-grouped-streams.ts) whose
 * function pairs up both groups, so windows, lateness and state are the coGroup's.
 */
import type { FlatJoinFunction, JoinFunction } from "../runtime/streaming/functions.js";
import { coGroupWindow, TwoStreams, TwoStreamWindows } from "./co-grouped-streams.js";
import type { DataStream } from "./data-stream.js";

/** Two streams to join (`a.join(b)`): name the first's key selector with `where`. */
export type JoinedStreams<T1, T2> = TwoStreams<T1, T2, JoinedWindow<T1, T2>>;

/** @internal `a.join(b)`. */
export function joinedStreams<T1, T2>(first: DataStream<T1>, second: DataStream<T2>): JoinedStreams<T1, T2> {
  return new TwoStreams(first, second, "join", (w) => new JoinedWindow<T1, T2>(w));
}

/**
 * Two keyed streams joined in the same windows; finish with `apply(JoinFunction)` or
 * `flatApply(FlatJoinFunction)`. A late element within the allowed lateness fires its window again:
 * every pair of that window once more.
 */
export class JoinedWindow<T1, T2> extends TwoStreamWindows {
  /** `fn(first, second)` for every pair of elements with equal keys in the same window (Flink's JoinFunction). */
  apply<R>(fn: JoinFunction<T1, T2, R>): DataStream<R> {
    return this.flatApply<R>((a, b, out) => out.collect(fn(a, b)));
  }

  /** `fn(first, second, out)` for every pair, emitting any number of elements (Flink's FlatJoinFunction). */
  flatApply<R>(fn: FlatJoinFunction<T1, T2, R>): DataStream<R> {
    return coGroupWindow<R>(this.w, this.lateness, "Window Join", (_k, _w, groups, out) => {
      const a = groups[0] as T1[];
      const b = groups[1] as T2[];
      for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) fn(a[i]!, b[j]!, out);
    });
  }
}
