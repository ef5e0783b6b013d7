/**
 * Flink's CoGroupedStreams: two streams keyed by one key selector each, in the same event-time windows
 * (`a.coGroup(b).where(k1).equalTo(k2).window(assigner).apply(fn)`); per key and window, `fn` gets the
 * elements of both (either group possibly empty). It runs as the keyed window operator in its
 * `coGroup` mode over both streams, keyed by a keyBy each: the same windows, state, timers and
 * allowed lateness as keyed windows (session windows merge across both streams). The window join
 * (joined-streams.ts) is built on it, as in Flink.
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { CoGroupFunction, KeySelector, KeyType, WindowFunction } from "../runtime/streaming/functions.js";
import type { WindowAssignerSpec } from "../runtime/streaming/windows.js";
import type { DataStream } from "./data-stream.js";
import { checkLateness, windowLabel } from "./windowed-stream.js";

/** What the window function of the coGroup mode gets per key and window: both groups. */
type Groups = [unknown[], unknown[]];

/** @internal Two streams, their key selectors and windows: what a coGroup or join vertex is built from. */
export interface TwoInputWindows {
  first: DataStream<unknown>;
  second: DataStream<unknown>;
  key1: KeySelector<unknown, KeyType>;
  key2: KeySelector<unknown, KeyType>;
  assigner: WindowAssignerSpec;
}

function checkSelector(fn: unknown, what: string): void {
  if (typeof fn !== "function") throw new ValidationError(ErrorCode.InvalidJobGraph, `${what} needs a key selector function (element) => key`);
}

/** The first stream's key selector given: name the second's with `equalTo`. */
export class Where<T1, T2, K extends KeyType, W> {
  /** @internal */
  constructor(
    private readonly first: DataStream<T1>,
    private readonly second: DataStream<T2>,
    private readonly key1: KeySelector<T1, K>,
    private readonly make: (w: TwoInputWindows) => W,
  ) {
    checkSelector(key1, "where()");
  }

  /** The second stream's key selector: elements of both with equal keys meet. */
  equalTo(key2: KeySelector<T2, K>): EqualTo<W> {
    checkSelector(key2, "equalTo()");
    return new EqualTo<W>((assigner) =>
      this.make({
        first: this.first as DataStream<unknown>,
        second: this.second as DataStream<unknown>,
        key1: this.key1 as KeySelector<unknown, KeyType>,
        key2: key2 as KeySelector<unknown, KeyType>,
        assigner,
      }),
    );
  }
}

/** Both key selectors given: choose the windows. */
export class EqualTo<W> {
  /** @internal */
  constructor(private readonly make: (assigner: WindowAssignerSpec) => W) {}

  /** Event-time windows (tumbling, sliding or session; see TumblingEventTimeWindows...). */
  window(assigner: WindowAssignerSpec): W {
    return this.make(assigner);
  }
}

/**
 * @internal The window vertex in coGroup mode over both streams (each keyed by its selector); the
 * window function gets `[first[], second[]]` per key and window.
 */
export function coGroupWindow<R>(w: TwoInputWindows, lateness: number, name: string, windowFn: WindowFunction<Groups, R, KeyType>): DataStream<R> {
  const a = w.first.keyBy(w.key1);
  const b = w.second.keyBy(w.key2);
  if (!a.inputs.concat(b.inputs).every((i) => i.ts !== undefined)) {
    throw new ValidationError(ErrorCode.InvalidJobGraph, `${name} needs timestamps on both streams: call assignTimestampsAndWatermarks(...) on each first`);
  }
  const config: Record<string, unknown> = { assigner: w.assigner, mode: "coGroup", firstInputGates: a.inputs.length };
  if (lateness > 0) config.allowedLateness = lateness;
  return a.union(b as DataStream<unknown>).operator<R>("eddy.stream.window", `${name} ${windowLabel(w.assigner)}`, { windowFn }, config);
}

/**
 * Two streams of one environment to be keyed by a selector each (`where`, then `equalTo`) and put in
 * windows, which `W` finishes: {@link CoGroupedStreams} and JoinedStreams.
 */
export class TwoStreams<T1, T2, W> {
  /** @internal */
  constructor(
    private readonly first: DataStream<T1>,
    private readonly second: DataStream<T2>,
    what: string,
    private readonly windowed: (w: TwoInputWindows) => W,
  ) {
    if (first.graph !== second.graph) throw new ValidationError(ErrorCode.InvalidJobGraph, `${what}() of streams of different environments`);
  }

  /** The first stream's key selector. */
  where<K extends KeyType>(key1: KeySelector<T1, K>): Where<T1, T2, K, W> {
    return new Where(this.first, this.second, key1, this.windowed);
  }
}

/** @internal Two keyed streams in the same windows, before their function. */
export abstract class TwoStreamWindows {
  /** @internal */
  protected lateness = 0;

  /** @internal */
  constructor(/** @internal */ protected readonly w: TwoInputWindows) {}

  /** Windows keep their state `ms` past their end; a late element within it fires its window again. */
  allowedLateness(ms: number): this {
    this.lateness = checkLateness(ms);
    return this;
  }
}

/** Two streams to co-group (`a.coGroup(b)`): name the first's key selector with `where`. */
export type CoGroupedStreams<T1, T2> = TwoStreams<T1, T2, CoGroupedWindow<T1, T2>>;

/** @internal `a.coGroup(b)`. */
export function coGroupedStreams<T1, T2>(first: DataStream<T1>, second: DataStream<T2>): CoGroupedStreams<T1, T2> {
  return new TwoStreams(first, second, "coGroup", (w) => new CoGroupedWindow<T1, T2>(w));
}

/** Two keyed streams in the same windows; finish with `apply(CoGroupFunction)`. */
export class CoGroupedWindow<T1, T2> extends TwoStreamWindows {
  /** Per key and window, `fn(first elements, second elements, out)`; a group is empty when that stream had none. */
  apply<R>(fn: CoGroupFunction<T1, T2, R>): DataStream<R> {
    return coGroupWindow<R>(this.w, this.lateness, "Window CoGroup", (_k, _w, groups, out) => fn(groups[0] as T1[], groups[1] as T2[], out));
  }
}
