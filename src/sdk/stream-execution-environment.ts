/**
 * Flink's StreamExecutionEnvironment: where a job's sources start and what builds its JobGraph
 * (`JobBuilder` is the same class under its earlier name). `build()` returns the JobGraphSpec with the
 * user functions attached (see stream-graph.ts).
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { JobGraphSpec } from "../jobgraph/types.js";
import type { Invokable } from "../runtime/api.js";
import type { SourceFunction } from "../runtime/streaming/functions.js";
import { clip, checkParallelism, StreamGraph, type JobOptions } from "./stream-graph.js";
import { DataStream } from "./data-stream.js";
import type { WatermarkStrategy } from "./watermark-strategy.js";

/** Splits of a generator source unless given: its position survives a restore at any parallelism up to this. */
export const DEFAULT_GENERATOR_SPLITS = 128;

/** Options of {@link StreamExecutionEnvironment.fromGenerator}. */
export interface GeneratorOptions {
  /** At most this many elements per second over all subtasks (default unthrottled). */
  ratePerSecond?: number;
  /** Interleaved splits of the index space shared by the subtasks (default {@link DEFAULT_GENERATOR_SPLITS}); keep it when restoring. */
  splits?: number;
}

/** Options of {@link StreamExecutionEnvironment.fromJetStream}: `source.jetstream`'s config, and event time. */
export interface JetStreamSourceOptions<T> {
  /** The stream to read. */
  stream: string;
  /** Only the messages of these subjects. */
  filterSubject?: string;
  /** How payloads decode (default "json"). */
  format?: "json" | "msgpack" | "string" | "bytes";
  /** First stream sequence to read (default 1). */
  startSeq?: number;
  /** Last stream sequence to read (inclusive): the source waits for it, then ends. */
  endSeq?: number;
  /** Without `endSeq`: read up to the stream's last sequence at the job's start, then end. */
  bounded?: boolean;
  /**
   * Event time from the records (a timestamp assigner) instead of the message timestamps: applied
   * right after the source, as `assignTimestampsAndWatermarks(watermarks)`.
   */
  watermarks?: WatermarkStrategy<T>;
}

const JETSTREAM_KEYS = ["stream", "filterSubject", "format", "startSeq", "endSeq", "bounded"] as const;

/** Builds one job: sources start streams, `build()` returns the JobGraphSpec. */
export class StreamExecutionEnvironment {
  /** @internal */
  readonly graph: StreamGraph;

  constructor(
    readonly jobName: string,
    options: JobOptions = {},
  ) {
    this.graph = new StreamGraph(jobName, { ...options });
  }

  /** Default parallelism of vertices that do not set their own. */
  get parallelism(): number {
    return this.graph.defaultParallelism;
  }

  /** Sets the default parallelism. */
  setParallelism(n: number): this {
    this.graph.defaultParallelism = checkParallelism(n, "parallelism");
    return this;
  }

  private source<T>(invokable: string, config: Record<string, unknown>, name: string, fns: Record<string, unknown> = {}): DataStream<T> {
    return new DataStream<T>(this.graph, [{ node: this.graph.addNode(invokable, config, name, fns), output: 0 }]);
  }

  /** The given elements, in order (a non-parallel source). */
  fromElements<T>(...elements: T[]): DataStream<T> {
    return this.fromCollection(elements);
  }

  /** The elements of an array, in order (a non-parallel source). */
  fromCollection<T>(elements: readonly T[]): DataStream<T> {
    const copy = [...elements];
    const s = this.source<T>("eddy.stream.generator", { count: copy.length, splits: 1 }, "Source: collection", { fn: (i: number) => copy[i] });
    s.node.parallelism = 1;
    s.node.nonParallel = "fromElements/fromCollection";
    return s;
  }

  /**
   * `fn(i)` for i = 0..count-1 (Flink's DataGeneratorSource): parallel, with a checkpointed position
   * that rewinds exactly on restore. The subtasks share `splits` interleaved splits of the indexes and
   * each emits its splits round robin, so every subtask emits increasing indexes.
   */
  fromGenerator<T>(count: number, fn: (index: number) => T, opts: GeneratorOptions = {}): DataStream<T> {
    if (!Number.isSafeInteger(count) || count < 0) throw new ValidationError(ErrorCode.InvalidJobGraph, `fromGenerator needs a count >= 0, got ${count}`);
    const config: Record<string, unknown> = { count, splits: opts.splits ?? DEFAULT_GENERATOR_SPLITS };
    if (opts.ratePerSecond) config.ratePerSecond = opts.ratePerSecond;
    return this.source<T>("eddy.stream.generator", config, `Source: generator(${count})`, { fn });
  }

  /** The integers from..to (inclusive), step 1 by default (`source.sequence`). */
  sequence(from: number, to: number, step = 1): DataStream<number> {
    const config: Record<string, unknown> = { from, to };
    if (step !== 1) config.step = step;
    return this.addSource<number>("source.sequence", config, `Source: sequence(${from}, ${to})`);
  }

  /**
   * `source.keyedEvents`: `[k<i mod keys>, i]` for i = 0..events-1, each key's events in order, at most
   * `ratePerSecond` (0: unthrottled); its position is checkpointed, so it rewinds exactly on restore.
   */
  keyedEvents(events: number, keys: number, ratePerSecond = 0): DataStream<[string, number]> {
    const config: Record<string, unknown> = { events, keys };
    if (ratePerSecond > 0) config.ratePerSecond = ratePerSecond;
    return this.addSource<[string, number]>("source.keyedEvents", config, `Source: keyedEvents(${events}, ${keys})`);
  }

  /**
   * The messages of a JetStream stream (`source.jetstream`, Flink's KafkaSource): each message's
   * decoded payload, in stream order per split (the stream's subject partitions, or sequence ranges
   * up to `endSeq`); exactly once with checkpointing. Watermarks follow the message timestamps, or
   * `opts.watermarks` (a WatermarkStrategy with a timestamp assigner) reads event time from the records.
   */
  fromJetStream<T = unknown>(opts: JetStreamSourceOptions<T>): DataStream<T> {
    if (typeof opts !== "object" || opts === null) throw new ValidationError(ErrorCode.InvalidJobGraph, "fromJetStream needs options {stream, ...}");
    const config: Record<string, unknown> = {};
    for (const k of JETSTREAM_KEYS) if (opts[k] !== undefined) config[k] = opts[k];
    const s = this.addSource<T>("source.jetstream", config, clip(`Source: JetStream(${String(opts.stream)})`));
    return opts.watermarks ? s.assignTimestampsAndWatermarks(opts.watermarks) : s;
  }

  /**
   * The lines of a text file (`source.textFile`); parallel subtasks split it by byte ranges, and their
   * positions are checkpointed. `ratePerSecond`: at most that many lines per second over all subtasks.
   */
  readTextFile(path: string, opts: { ratePerSecond?: number } = {}): DataStream<string> {
    const config: Record<string, unknown> = { path };
    if (opts.ratePerSecond) config.ratePerSecond = opts.ratePerSecond;
    return this.addSource<string>("source.textFile", config, clip(`Source: readTextFile(${path})`));
  }

  /**
   * A source vertex: a SourceFunction factory from the job's code (called once per subtask), an
   * Invokable factory (`{invokable: () => Invokable}`, the actor SDK), or a built-in invokable by name.
   */
  addSource<T = unknown>(factory: () => SourceFunction<T>, name?: string): DataStream<T>;
  addSource<T = unknown>(custom: { invokable: () => Invokable }, name?: string): DataStream<T>;
  addSource<T = unknown>(invokable: string, config?: Record<string, unknown>, name?: string): DataStream<T>;
  addSource<T = unknown>(
    what: string | (() => SourceFunction<T>) | { invokable: () => Invokable },
    configOrName?: Record<string, unknown> | string,
    name?: string,
  ): DataStream<T> {
    const label = typeof configOrName === "string" ? configOrName : name;
    if (typeof what === "function") return this.source<T>("eddy.stream.source", {}, label ?? "Source: custom", { fn: what });
    if (typeof what === "object") return this.source<T>("eddy.user.source", {}, label ?? "Source: custom invokable", { fn: what.invokable });
    return this.source<T>(what, typeof configOrName === "object" ? configOrName : {}, label ?? `Source: ${what}`);
  }

  /** The JobGraph (see {@link StreamGraph.build}). */
  build(): JobGraphSpec {
    return this.graph.build();
  }
}

export type { JobOptions };
