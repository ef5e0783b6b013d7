/**
 * Flink's KeyedStream: a stream partitioned by key, whose operators keep state and timers per key:
 * reduce, process (a KeyedProcessFunction), window, connect; plus the built-ins' `sum` and
 * `countPerKey` when keyed by an array index.
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { KeyedProcessFunction, ReduceFunction } from "../runtime/streaming/functions.js";
import type { WindowAssignerSpec } from "../runtime/streaming/windows.js";
import { DataStream, streamKinds, type FieldOf } from "./data-stream.js";
import type { ConnectedStreams } from "./connected-streams.js";
import type { StreamGraph, StreamInput } from "./stream-graph.js";
import { WindowedStream } from "./windowed-stream.js";

/** A stream partitioned by key K. */
export class KeyedStream<T, K> extends DataStream<T> {
  /** @internal */
  constructor(
    graph: StreamGraph,
    inputs: StreamInput[],
    /** @internal The array index or field keyed by, for a keyBy(<field>); undefined for a key selector. */
    readonly field?: number | string,
  ) {
    super(graph, inputs);
  }

  private fieldIndex(what: string): number {
    if (typeof this.field !== "number") {
      throw new ValidationError(ErrorCode.InvalidJobGraph, `${what} needs keyBy(<array index>), not keyBy(${this.field === undefined ? "<function>" : JSON.stringify(this.field)})`);
    }
    return this.field;
  }

  /** Per key, the reduce of every element so far, emitted for each element (Flink's keyed reduce). */
  reduce(fn: ReduceFunction<T>): DataStream<T> {
    return this.operator<T>("eddy.stream.reduce", "Keyed Reduce", { fn }, {}, { keepTimestamps: true });
  }

  /** A KeyedProcessFunction: keyed state, event- and processing-time timers, side outputs. */
  override process<R>(fn: KeyedProcessFunction<K, T, R>): DataStream<R> {
    return this.operator<R>("eddy.stream.keyedProcess", "Keyed Process", { fn });
  }

  /** Event-time windows per key (tumbling, sliding or session; see TumblingEventTimeWindows...). */
  window(assigner: WindowAssignerSpec): WindowedStream<T, K> {
    return new WindowedStream<T, K>(this, assigner);
  }

  /** Connects two keyed streams with the same key type: their CoProcessFunction has keyed state and timers. */
  override connect<T2>(other: DataStream<T2>): ConnectedStreams<T, T2> {
    if (other.graph !== this.graph) throw new ValidationError(ErrorCode.InvalidJobGraph, "connect() of streams of different environments");
    return streamKinds.connected!<T, T2>(this.graph, this.inputs, other.inputs, other instanceof KeyedStream);
  }

  /** `op.countPerKey`: appends each record's running count per key (kept in keyed state). */
  countPerKey(): DataStream<[...(T extends readonly unknown[] ? T : [T]), number]> {
    return this.transform("op.countPerKey", { keyIndex: this.fieldIndex("countPerKey()") }, "Keyed Count");
  }

  /** `op.keyedSum`: `[key, sum of field valueIndex]` per key once the input ends (bounded input). */
  sum(valueIndex = 1): DataStream<[K, number]> {
    return this.transform<[K, number]>("op.keyedSum", { keyIndex: this.fieldIndex("sum()"), valueIndex }, "Keyed Sum");
  }
}

streamKinds.keyed = <T, K>(graph: StreamGraph, inputs: StreamInput[], field?: number | string) => new KeyedStream<T, K>(graph, inputs, field);

export type { FieldOf };
