/**
 * Flink's DataStream (with SingleOutputStreamOperator's setters), KeyedStream and ConnectedStreams:
 * a stream of elements of type T and the operations that make new streams from it. A stream is one
 * or more inputs (several after `union`), each the output of one node. The three live in one module
 * because each creates the others (keyBy, connect, and every operator of a keyed or connected
 * stream), and KeyedStream extends DataStream: in separate modules they would import each other.
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { PartitionerType } from "../jobgraph/types.js";
import type { Invokable } from "../runtime/api.js";
import type {
  Collector,
  CoProcessFunction,
  FilterFunction,
  FlatMapFunction,
  KeyedProcessFunction,
  KeySelector,
  KeyType,
  MapFunction,
  OutputTag,
  ProcessFunction,
  ReduceFunction,
  SinkFunction,
} from "../runtime/streaming/functions.js";
import type { WindowAssignerSpec } from "../runtime/streaming/windows.js";
import { clip, commonTimestamps, FnRef, inputSpecs, type StreamGraph, type StreamInput, type StreamNode } from "./stream-graph.js";
import type { WatermarkStrategy } from "./watermark-strategy.js";
import { DataStreamSink, NodeSetters } from "./data-stream-sink.js";
import { WindowedStream } from "./windowed-stream.js";
import { AllWindowedStream } from "./all-windowed-stream.js";
import { coGroupedStreams, type CoGroupedStreams } from "./co-grouped-streams.js";
import { joinedStreams, type JoinedStreams } from "./joined-streams.js";
import { IntervalJoin } from "./interval-join.js";

/** Options of {@link KeyedStream.sum}. */
export interface SumOptions {
  /** Sum each producer subtask's records before the exchange (default true; a keyBy after a union has none). */
  combine?: boolean;
}

/** The element type at index K of a tuple type T (unknown when T is not a tuple). */
export type FieldOf<T, K> = T extends readonly unknown[] ? (K extends keyof T ? T[K] : unknown) : K extends keyof T ? T[K] : unknown;

/** A stream of elements of type T. */
export class DataStream<T> extends NodeSetters {
  /** @internal */
  constructor(
    /** @internal */ readonly graph: StreamGraph,
    /** @internal */ readonly inputs: StreamInput[],
  ) {
    super();
  }

  /** @internal The one node producing this stream (a union has several: setters do not apply to it). */
  get node(): StreamNode {
    if (this.inputs.length !== 1)
      throw new ValidationError(
        ErrorCode.InvalidJobGraph,
        "this stream is a union of several streams; set names, ids and parallelism on the streams it unites",
      );
    return this.inputs[0]!.node;
  }

  /** @internal A new operator reading this stream; `keepTimestamps`: its output keeps the input's timestamp assigner. */
  operator<R>(
    invokable: string,
    name: string,
    fns: Record<string, unknown>,
    config: Record<string, unknown> = {},
    opts: { keepTimestamps?: boolean; follow?: boolean } = {},
  ): DataStream<R> {
    const node = this.graph.addNode(invokable, config, name, fns);
    const specs = inputSpecs(this.inputs);
    if (specs) node.config.inputs = specs;
    if (opts.follow && this.inputs.length === 1) node.follows = this.inputs[0]!.node;
    this.graph.connect(this.inputs, node);
    const ts = opts.keepTimestamps ? commonTimestamps(this.inputs) : undefined;
    return new DataStream<R>(this.graph, [{ node, output: 0, ...(ts ? { ts } : {}) }]);
  }

  /** @internal A built-in invokable reading this stream (plain records: not the actors' internal `[key, value]` envelopes). */
  protected builtin(invokable: string, config: Record<string, unknown>, name: string): StreamNode {
    if (this.inputs.some((i) => i.key === "envelope")) {
      throw new ValidationError(
        ErrorCode.InvalidJobGraph,
        `the built-in ${invokable} cannot read [key, value] envelopes (an actor application's internal keying); read it with a stream-API operator (map, process, ...)`,
      );
    }
    const node = this.graph.addNode(invokable, config, name);
    this.graph.connect(this.inputs, node);
    return node;
  }

  private repartition(partitioner: PartitionerType): DataStream<T> {
    return new DataStream<T>(
      this.graph,
      this.inputs.map((i) => {
        // Repartitioned records are keyed no more; only the envelopes' shape stays with them.
        const { hashKey: _h, key, ...rest } = i;
        return key === "envelope" ? { ...rest, key, partitioner } : { ...rest, partitioner };
      }),
    );
  }

  // ---- transformations ----

  /** One element per element (Flink's map). */
  map<R>(fn: MapFunction<T, R>): DataStream<R> {
    return this.operator<R>("eddy.stream.map", "Map", { fn });
  }

  /** Any number of elements per element (Flink's flatMap). */
  flatMap<R>(fn: FlatMapFunction<T, R>): DataStream<R> {
    return this.operator<R>("eddy.stream.flatMap", "FlatMap", { fn });
  }

  /** The elements `fn` is true for; timestamps are kept. */
  filter(fn: FilterFunction<T>): DataStream<T> {
    return this.operator<T>("eddy.stream.filter", "Filter", { fn }, {}, { keepTimestamps: true });
  }

  /** A ProcessFunction over every element (side outputs through `ctx.output`). */
  process<R>(fn: ProcessFunction<T, R>): DataStream<R> {
    return this.operator<R>("eddy.stream.process", "Process", { fn });
  }

  /**
   * Partitions by key: a key selector function (keys: strings or numbers), or an array index / object
   * field. The keyed operators after it (reduce, process, window, connect) see every element of a key
   * in one subtask, with that key's state and timers.
   */
  keyBy<K extends KeyType>(selector: KeySelector<T, K>): KeyedStream<T, K>;
  keyBy<F extends number | string>(field: F): KeyedStream<T, FieldOf<T, F>>;
  // biome-ignore lint/suspicious/noExplicitAny: the implementation signature of the overloads above, which callers see instead
  keyBy(selector: KeySelector<T, KeyType> | number | string): KeyedStream<T, any> {
    if (typeof selector === "function") {
      if (this.inputs.some((i) => i.key === "envelope")) return this.keyByEnvelope(selector);
      // As Flink's KeySelector: the producer applies it to route each record, the keyed operator
      // applies it again to find the record's key; the records travel as they are, each input keeping
      // its own timestamp assigner.
      const ref = this.graph.keySelector(this.inputs[0]!.node, selector);
      return new KeyedStream<T, unknown>(
        this.graph,
        this.inputs.map((i) => ({ ...i, partitioner: "hash" as const, hashKey: ref, key: { selector: ref } })),
      );
    }
    if (typeof selector !== "number" && typeof selector !== "string")
      throw new ValidationError(ErrorCode.InvalidJobGraph, "keyBy needs a key selector function, an array index or a field name");
    if (this.inputs.some((i) => i.key === "envelope"))
      throw new ValidationError(
        ErrorCode.InvalidJobGraph,
        "keyBy(<field>) of [key, value] envelopes (an actor application's internal keying): map the stream first",
      );
    return new KeyedStream<T, unknown>(
      this.graph,
      this.inputs.map((i) => ({ ...i, partitioner: "hash" as const, hashKey: selector, key: { field: selector } })),
      selector,
    );
  }

  /**
   * @internal keyBy through an `eddy.stream.keyBy` vertex writing `[key, value]` envelopes (the key
   * computed once, before the exchange): the actors' dispatch reads its messages so, and its feedback
   * edge carries envelopes of the same shape.
   */
  keyByEnvelope(selector: KeySelector<T, KeyType>): KeyedStream<T, unknown> {
    // One stream with a timestamp assigner: the operators after the keyBy apply it to the value
    // themselves, so the envelopes need not carry the timestamp (a slot and a boxed number per
    // record). Streams that may have different assigners (a union) get each element's timestamp
    // written into its envelope, so the keyed stream has timestamps all the same.
    const own = this.inputs.length === 1 ? this.inputs[0]!.ts : undefined;
    const assigner = own instanceof FnRef ? own : undefined;
    const stamped = assigner === undefined && this.inputs.every((i) => i.ts !== undefined);
    const node = this.graph.addNode("eddy.stream.keyBy", {}, "KeyBy", { fn: selector });
    const specs = inputSpecs(assigner ? this.inputs.map((i) => ({ ...i, ts: undefined })) : this.inputs);
    if (specs) node.config.inputs = specs;
    if (this.inputs.length === 1) node.follows = this.inputs[0]!.node;
    this.graph.connect(this.inputs, node);
    const ts = assigner ? { ts: assigner } : stamped ? { ts: "envelope" as const } : {};
    return new KeyedStream<T, unknown>(this.graph, [{ node, output: 0, partitioner: "hash", hashKey: 0, key: "envelope", ...ts }]);
  }

  /** This stream and `others` as one (Flink's union): an operator after it reads all of them. */
  union(...others: DataStream<T>[]): DataStream<T> {
    for (const o of others) if (o.graph !== this.graph) throw new ValidationError(ErrorCode.InvalidJobGraph, "union() of streams of different environments");
    return new DataStream<T>(this.graph, [...this.inputs, ...others.flatMap((o) => o.inputs)]);
  }

  /** Connects two streams for a CoMap/CoFlatMap/CoProcess (Flink's connect); keyed when both are keyed (see KeyedStream.connect). */
  connect<T2>(other: DataStream<T2>): ConnectedStreams<T, T2> {
    if (other.graph !== this.graph) throw new ValidationError(ErrorCode.InvalidJobGraph, "connect() of streams of different environments");
    return new ConnectedStreams<T, T2>(this.graph, this.inputs, other.inputs, false);
  }

  /** A window join with `other` (Flink's join): `.where(k1).equalTo(k2).window(assigner).apply(fn)`. */
  join<T2>(other: DataStream<T2>): JoinedStreams<T, T2> {
    return joinedStreams(this, other);
  }

  /** Both streams' elements per key and window (Flink's coGroup): `.where(k1).equalTo(k2).window(assigner).apply(fn)`. */
  coGroup<T2>(other: DataStream<T2>): CoGroupedStreams<T, T2> {
    return coGroupedStreams(this, other);
  }

  /** Event-time windows over the whole stream (Flink's windowAll): one subtask sees every element. */
  windowAll(assigner: WindowAssignerSpec): AllWindowedStream<T> {
    return new AllWindowedStream<T>(this, assigner);
  }

  /**
   * Event time: each element's timestamp by `strategy`'s assigner, and watermarks that trail the
   * highest timestamp by its out-of-orderness (emitted after every input batch). Runs chained to the
   * operator before it.
   */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>): DataStream<T> {
    const assigner = strategy.timestampAssigner;
    if (!assigner)
      throw new ValidationError(
        ErrorCode.InvalidJobGraph,
        "the watermark strategy needs a timestamp assigner: strategy.withTimestampAssigner((element) => ms)",
      );
    const config: Record<string, unknown> = { maxOutOfOrderness: strategy.maxOutOfOrderness };
    if (strategy.every > 0) config.every = strategy.every;
    const node = this.graph.addNode("eddy.stream.watermarks", config, "Timestamps/Watermarks", { ts: assigner });
    const specs = inputSpecs(this.inputs.map((i) => ({ ...i, ts: undefined })) as StreamInput[]);
    if (specs) node.config.inputs = specs;
    if (this.inputs.length === 1) node.follows = this.inputs[0]!.node;
    this.graph.connect(this.inputs, node);
    const keyShape = this.inputs.length === 1 && this.inputs[0]!.key === "envelope" ? { key: "envelope" as const } : {};
    return new DataStream<T>(this.graph, [{ node, output: 0, ts: node.config.ts as FnRef, ...keyShape }]);
  }

  /** The side output `tag` of the operator that produces this stream. */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    const node = this.node;
    return new DataStream<X>(this.graph, [{ node, output: this.graph.sideOutput(node, tag.id) }]);
  }

  // ---- partitioning ----

  /** Round-robin to all consumer subtasks. */
  rebalance(): DataStream<T> {
    return this.repartition("rebalance");
  }
  /** Round-robin to a local subset of consumer subtasks. */
  rescale(): DataStream<T> {
    return this.repartition("rescale");
  }
  /** Every record to every consumer subtask. */
  broadcast(): DataStream<T> {
    return this.repartition("broadcast");
  }
  /** Subtask i to subtask i (needs equal parallelism). */
  forward(): DataStream<T> {
    return this.repartition("forward");
  }

  // ---- built-in invokables ----

  /** `op.tokenize`: lines to `[word, 1]` pairs (A-Z lowercased, words are runs of [a-z0-9_]). */
  tokenize(this: DataStream<string>): DataStream<[string, number]> {
    return this.transform<[string, number]>("op.tokenize", {}, "Tokenize");
  }

  /** `op.identity`: the same records. */
  identity(): DataStream<T> {
    return this.transform<T>("op.identity", {}, "Identity");
  }

  /**
   * A downstream vertex running any invokable: a built-in by name (with its config), or an invokable
   * written in the job's code (a factory called once per subtask; see docs/writing-jobs.md).
   */
  transform<R = unknown>(invokable: string | (() => Invokable), config: Record<string, unknown> = {}, name?: string): DataStream<R> {
    if (typeof invokable === "function") return this.operator<R>("eddy.user.operator", name ?? "Custom Operator", { fn: invokable });
    return new DataStream<R>(this.graph, [{ node: this.builtin(invokable, config, name ?? invokable), output: 0 }]);
  }

  // ---- sinks ----

  /** `sink.textFile`: one `part-<subtask>` file per subtask in `dir`, one line per record. */
  writeAsText(dir: string): DataStreamSink {
    return this.addSink("sink.textFile", { path: dir }, clip(`Sink: writeAsText(${dir})`));
  }

  /** `sink.discard`: drops the records, counting them (accumulator "records"). */
  discard(): DataStreamSink {
    return this.addSink("sink.discard", {}, "Sink: discard");
  }

  /** Prints every element as a line on the worker's stdout (`prefix> ` first when given). */
  print(prefix?: string): DataStreamSink {
    const node = this.graph.addNode("eddy.stream.print", prefix !== undefined ? { prefix } : {}, "Sink: print");
    return this.sinkNode(node);
  }

  /**
   * Writes every element as a line of the file `path` when the input ends (objects as JSON, arrays
   * joined by spaces, or `format(element)`), sorted when `sorted`: a deterministic result file for
   * bounded jobs. Parallelism 1 by default (a parallel sink's subtask i writes `path.i`).
   */
  collectToFile(path: string, opts: { sorted?: boolean; format?: (element: T) => string } = {}): DataStreamSink {
    const config: Record<string, unknown> = { path };
    if (opts.sorted) config.sorted = true;
    const node = this.graph.addNode("eddy.stream.collect", config, clip(`Sink: collect(${path})`), { format: opts.format });
    node.parallelism = 1;
    return this.sinkNode(node);
  }

  /** A sink vertex: a SinkFunction factory (called once per subtask), or a built-in invokable by name. */
  addSink(factory: () => SinkFunction<T>, name?: string): DataStreamSink;
  addSink(invokable: string, config?: Record<string, unknown>, name?: string): DataStreamSink;
  addSink(what: string | (() => SinkFunction<T>), configOrName?: Record<string, unknown> | string, name?: string): DataStreamSink {
    if (typeof what === "function") {
      const node = this.graph.addNode("eddy.stream.sink", {}, typeof configOrName === "string" ? configOrName : "Sink: custom", { fn: what });
      return this.sinkNode(node);
    }
    const config = typeof configOrName === "object" ? configOrName : {};
    return new DataStreamSink(this.builtin(what, config, name ?? `Sink: ${what}`));
  }

  private sinkNode(node: StreamNode): DataStreamSink {
    const specs = inputSpecs(this.inputs);
    if (specs) node.config.inputs = specs;
    this.graph.connect(this.inputs, node);
    return new DataStreamSink(node);
  }
}

/**
 * A stream partitioned by key K (Flink's KeyedStream), whose operators keep state and timers per key:
 * reduce, process (a KeyedProcessFunction), window, connect; plus the built-ins' `sum` and
 * `countPerKey` when keyed by an array index.
 */
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
      throw new ValidationError(
        ErrorCode.InvalidJobGraph,
        `${what} needs keyBy(<array index>), not keyBy(${this.field === undefined ? "<function>" : JSON.stringify(this.field)})`,
      );
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

  /** Joins each element at t with `other`'s elements of its key in an interval around t (Flink's interval join): `.between(lower, upper).process(fn)`. */
  intervalJoin<T2>(other: KeyedStream<T2, K>): IntervalJoin<T, T2, K> {
    return new IntervalJoin<T, T2, K>(this, other);
  }

  /** Connects two keyed streams with the same key type: their CoProcessFunction has keyed state and timers. */
  override connect<T2>(other: DataStream<T2>): ConnectedStreams<T, T2> {
    if (other.graph !== this.graph) throw new ValidationError(ErrorCode.InvalidJobGraph, "connect() of streams of different environments");
    return new ConnectedStreams<T, T2>(this.graph, this.inputs, other.inputs, other instanceof KeyedStream);
  }

  /** `op.countPerKey`: appends each record's running count per key (kept in keyed state). */
  countPerKey(): DataStream<[...(T extends readonly unknown[] ? T : [T]), number]> {
    return this.transform("op.countPerKey", { keyIndex: this.fieldIndex("countPerKey()") }, "Keyed Count");
  }

  /**
   * `op.keyedSum`: `[key, sum of field valueIndex]` per key once the input ends (bounded input). A
   * combiner chained before the exchange sums each producer subtask's records first (Flink's combinable
   * reduce, Spark's map-side combine), so a key crosses the exchange about once per producer instead
   * of once per record; `{ combine: false }` sends every record, as does a keyBy after a union.
   */
  sum(valueIndex = 1, options: SumOptions = {}): DataStream<[K, number]> {
    const config = { keyIndex: this.fieldIndex("sum()"), valueIndex };
    if (options.combine === false || this.inputs.length !== 1) return this.transform<[K, number]>("op.keyedSum", config, "Keyed Sum");
    const { partitioner: _p, hashKey, key, ...upstream } = this.inputs[0]!;
    const combiner = this.graph.addNode("op.keyedSum", { ...config, partial: true }, "Combine Sum");
    combiner.follows = upstream.node;
    this.graph.connect([{ ...upstream, partitioner: "forward" }], combiner);
    const combined = new KeyedStream<T, K>(this.graph, [{ node: combiner, output: 0, partitioner: "hash", hashKey, key }], this.field);
    return combined.transform<[K, number]>("op.keyedSum", config, "Keyed Sum");
  }
}

/**
 * Two connected streams (Flink's ConnectedStreams) of possibly different types, processed by one
 * operator (CoMap, CoFlatMap, CoProcessFunction). When both are keyed (KeyedStream.connect or keyBy
 * here), the CoProcessFunction has keyed state and timers shared by both inputs' elements of a key.
 */
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
