/**
 * Flink's DataStream (with SingleOutputStreamOperator's setters) and DataStreamSink: a stream of
 * elements of type T and the operations that make new streams from it. A stream is one or more
 * inputs (several after `union`), each the output of one node.
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { PartitionerType } from "../jobgraph/types.js";
import type { Invokable } from "../runtime/api.js";
import type {
  FilterFunction,
  FlatMapFunction,
  KeySelector,
  KeyType,
  MapFunction,
  OutputTag,
  ProcessFunction,
  SinkFunction,
} from "../runtime/streaming/functions.js";
import { checkId, checkParallelism, clip, type FnRef, type StreamGraph, type StreamInput, type StreamNode } from "./stream-graph.js";
import type { WatermarkStrategy } from "./watermark-strategy.js";
import type { KeyedStream } from "./keyed-stream.js";
import type { ConnectedStreams } from "./connected-streams.js";

/** The element type at index K of a tuple type T (unknown when T is not a tuple). */
export type FieldOf<T, K> = T extends readonly unknown[] ? (K extends keyof T ? T[K] : unknown) : K extends keyof T ? T[K] : unknown;

/**
 * Constructors of the stream kinds that depend on DataStream (set by their modules when they load:
 * they extend or use DataStream, so DataStream cannot import them without an import cycle).
 */
export const streamKinds: {
  keyed?: <T, K>(graph: StreamGraph, inputs: StreamInput[], field?: number | string) => KeyedStream<T, K>;
  connected?: <A, B>(graph: StreamGraph, first: StreamInput[], second: StreamInput[], keyed: boolean) => ConnectedStreams<A, B>;
} = {};

function kind<K extends keyof typeof streamKinds>(k: K): NonNullable<(typeof streamKinds)[K]> {
  const f = streamKinds[k];
  if (!f) throw new Error(`the stream API module for ${k} streams is not loaded; import from src/sdk/index.js`);
  return f as NonNullable<(typeof streamKinds)[K]>;
}

/** The timestamps all inputs share, if they do. */
export function commonTimestamps(inputs: readonly StreamInput[]): StreamInput["ts"] {
  const ts = inputs[0]?.ts;
  return ts && inputs.every((i) => i.ts === ts) ? ts : undefined;
}

/** `config.inputs` of an operator reading `inputs` (how to read each gate), or undefined when all are plain. */
export function inputSpecs(inputs: readonly StreamInput[]): Array<Record<string, unknown>> | undefined {
  if (!inputs.some((i) => i.key !== undefined || i.ts !== undefined)) return undefined;
  return inputs.map((i) => {
    const s: Record<string, unknown> = {};
    if (i.key !== undefined) s.key = i.key;
    if (i.ts !== undefined) s.ts = i.ts;
    return s;
  });
}

/** Setters of the node that produces a stream (Flink's SingleOutputStreamOperator). */
abstract class NodeSetters {
  /** @internal */
  abstract get node(): StreamNode;

  /** The producing vertex's id. */
  get id(): string {
    return this.node.id;
  }
  /** Sets the vertex's display name. */
  name(name: string): this {
    this.node.name = clip(name);
    return this;
  }
  /** Sets the vertex id (`[A-Za-z0-9_-]{1,64}`, unique in the job); state is matched by it on restore. */
  uid(id: string): this {
    this.node.id = checkId(id, "uid");
    return this;
  }
  /** Sets the vertex's parallelism. */
  setParallelism(n: number): this {
    this.node.parallelism = checkParallelism(n, `parallelism of ${this.node.id}`);
    return this;
  }
  /** Sets the vertex's max parallelism (key groups). */
  setMaxParallelism(n: number): this {
    this.node.maxParallelism = checkParallelism(n, `maxParallelism of ${this.node.id}`);
    return this;
  }
  /** Puts the vertex in a slot sharing group (default "default"). */
  slotSharingGroup(group: string): this {
    this.node.slotSharingGroup = checkId(group, "slot sharing group");
    return this;
  }
  /** Never chains this vertex with its neighbours (Flink's disableChaining). */
  disableChaining(): this {
    this.node.chaining = false;
    return this;
  }
  /** Starts a new chain here: not chained to the vertex before, the ones after may chain to it (Flink's startNewChain). */
  startNewChain(): this {
    this.node.chaining = "head";
    return this;
  }
}

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
    if (this.inputs.length !== 1) throw new ValidationError(ErrorCode.InvalidJobGraph, "this stream is a union of several streams; set names, ids and parallelism on the streams it unites");
    return this.inputs[0]!.node;
  }

  /** @internal A new operator reading this stream; `keepTimestamps`: its output keeps the input's timestamp assigner. */
  operator<R>(invokable: string, name: string, fns: Record<string, unknown>, config: Record<string, unknown> = {}, opts: { keepTimestamps?: boolean; follow?: boolean } = {}): DataStream<R> {
    const node = this.graph.addNode(invokable, config, name, fns);
    const specs = inputSpecs(this.inputs);
    if (specs) node.config.inputs = specs;
    if (opts.follow && this.inputs.length === 1) node.follows = this.inputs[0]!.node;
    this.graph.connect(this.inputs, node);
    const ts = opts.keepTimestamps ? commonTimestamps(this.inputs) : undefined;
    return new DataStream<R>(this.graph, [{ node, output: 0, ...(ts ? { ts } : {}) }]);
  }

  /** @internal A built-in invokable reading this stream (plain records only). */
  protected builtin(invokable: string, config: Record<string, unknown>, name: string): StreamNode {
    if (this.inputs.some((i) => i.key === "envelope")) {
      throw new ValidationError(ErrorCode.InvalidJobGraph, `the built-in ${invokable} cannot read a stream keyed by a key selector; use keyBy(<field>) or a stream-API operator (map, process, ...)`);
    }
    const node = this.graph.addNode(invokable, config, name);
    this.graph.connect(this.inputs, node);
    return node;
  }

  private repartition(partitioner: PartitionerType): DataStream<T> {
    return new DataStream<T>(
      this.graph,
      this.inputs.map((i) => {
        const { hashKey: _h, ...rest } = i;
        return { ...rest, partitioner };
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
    const make = kind("keyed");
    if (typeof selector === "function") {
      // The extractor writes each element's timestamp into its envelope, so the keyed stream has
      // timestamps even when the streams it reads (a union) have different assigners.
      const stamped = this.inputs.every((i) => i.ts !== undefined);
      const node = this.graph.addNode("eddy.stream.keyBy", {}, "KeyBy", { fn: selector });
      const specs = inputSpecs(this.inputs);
      if (specs) node.config.inputs = specs;
      if (this.inputs.length === 1) node.follows = this.inputs[0]!.node;
      this.graph.connect(this.inputs, node);
      return make<T, unknown>(this.graph, [{ node, output: 0, partitioner: "hash", hashKey: 0, key: "envelope", ...(stamped ? { ts: "envelope" as const } : {}) }]);
    }
    if (typeof selector !== "number" && typeof selector !== "string") throw new ValidationError(ErrorCode.InvalidJobGraph, "keyBy needs a key selector function, an array index or a field name");
    if (this.inputs.some((i) => i.key === "envelope")) throw new ValidationError(ErrorCode.InvalidJobGraph, "keyBy(<field>) after keyBy(<function>): map the stream first");
    return make<T, unknown>(
      this.graph,
      this.inputs.map((i) => ({ ...i, partitioner: "hash" as const, hashKey: selector, key: { field: selector } })),
      selector,
    );
  }

  /** This stream and `others` as one (Flink's union): an operator after it reads all of them. */
  union(...others: DataStream<T>[]): DataStream<T> {
    for (const o of others) if (o.graph !== this.graph) throw new ValidationError(ErrorCode.InvalidJobGraph, "union() of streams of different environments");
    return new DataStream<T>(this.graph, [...this.inputs, ...others.flatMap((o) => o.inputs)]);
  }

  /** Connects two streams for a CoMap/CoFlatMap/CoProcess (Flink's connect); keyed when both are keyed (see KeyedStream.connect). */
  connect<T2>(other: DataStream<T2>): ConnectedStreams<T, T2> {
    if (other.graph !== this.graph) throw new ValidationError(ErrorCode.InvalidJobGraph, "connect() of streams of different environments");
    return kind("connected")<T, T2>(this.graph, this.inputs, other.inputs, false);
  }

  /**
   * Event time: each element's timestamp by `strategy`'s assigner, and watermarks that trail the
   * highest timestamp by its out-of-orderness (emitted after every input batch). Runs chained to the
   * operator before it.
   */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>): DataStream<T> {
    const assigner = strategy.timestampAssigner;
    if (!assigner) throw new ValidationError(ErrorCode.InvalidJobGraph, "the watermark strategy needs a timestamp assigner: strategy.withTimestampAssigner((element) => ms)");
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
   * written in the job's code (a factory called once per subtask; see the README's actor SDK).
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

/** The end of a pipeline: a sink vertex. */
export class DataStreamSink extends NodeSetters {
  /** @internal */
  constructor(/** @internal */ readonly sinkNode: StreamNode) {
    super();
  }
  /** @internal */
  get node(): StreamNode {
    return this.sinkNode;
  }
}
