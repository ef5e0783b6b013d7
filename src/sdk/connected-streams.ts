/**
 * Flink's ConnectedStreams: two streams of possibly different types processed by one operator
 * (CoMap, CoFlatMap, CoProcessFunction). When both are keyed (KeyedStream.connect or keyBy here),
 * the CoProcessFunction has keyed state and timers shared by both inputs' elements of a key.
 */
import type { Collector, CoProcessFunction, KeySelector, KeyType, MapFunction } from "../runtime/streaming/functions.js";
import { DataStream, inputSpecs, streamKinds } from "./data-stream.js";
import type { StreamGraph, StreamInput } from "./stream-graph.js";

/** Two connected streams. */
export class ConnectedStreams<T1, T2> {
  /** @internal */
  constructor(
    private readonly graph: StreamGraph,
    private readonly first: StreamInput[],
    private readonly second: StreamInput[],
    /** Both inputs keyed. */
    readonly keyed: boolean,
  ) {}

  /** Keys both inputs (each with its own key selector) for keyed state and timers. */
  keyBy<K extends KeyType>(key1: KeySelector<T1, K>, key2: KeySelector<T2, K>): ConnectedStreams<T1, T2> {
    const a = new DataStream<T1>(this.graph, this.first).keyBy(key1);
    const b = new DataStream<T2>(this.graph, this.second).keyBy(key2);
    return new ConnectedStreams<T1, T2>(this.graph, a.inputs, b.inputs, true);
  }

  /** fn1 for elements of the first stream, fn2 for the second (Flink's CoMapFunction). */
  map<R>(fn1: MapFunction<T1, R>, fn2: MapFunction<T2, R>): DataStream<R> {
    return this.process<R>({
      processElement1: (v, _c, out) => out.collect(fn1(v)),
      processElement2: (v, _c, out) => out.collect(fn2(v)),
    });
  }

  /** Flink's CoFlatMapFunction. */
  flatMap<R>(fn1: (value: T1, out: Collector<R>) => void, fn2: (value: T2, out: Collector<R>) => void): DataStream<R> {
    return this.process<R>({
      processElement1: (v, _c, out) => fn1(v, out),
      processElement2: (v, _c, out) => fn2(v, out),
    });
  }

  /** A CoProcessFunction (keyed state and timers when both inputs are keyed). */
  process<R>(fn: CoProcessFunction<T1, T2, R>): DataStream<R> {
    const inputs = [...this.first, ...this.second];
    const node = this.graph.addNode("eddy.stream.coProcess", { firstInputGates: this.first.length }, "Co-Process", { fn });
    const specs = inputSpecs(inputs);
    if (specs) node.config.inputs = specs;
    this.graph.connect(inputs, node);
    return new DataStream<R>(this.graph, [{ node, output: 0 }]);
  }
}

streamKinds.connected = <A, B>(graph: StreamGraph, first: StreamInput[], second: StreamInput[], keyed: boolean) => new ConnectedStreams<A, B>(graph, first, second, keyed);
