/**
 * A small typed builder for JobGraphs made of built-in invokables, in the shape of Flink's DataStream
 * API: `env.readTextFile(p).tokenize().keyBy(0).sum(1).writeAsText(dir)`. User functions and code
 * shipping come later; `transform`/`addSource`/`addSink` reach any invokable by name meanwhile.
 * Bundle-friendly: no Node built-ins, no dependencies.
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { JobEdgeSpec, JobGraphSpec, JobVertexSpec, PartitionerType } from "../jobgraph/types.js";

/** Job-wide options of a {@link JobBuilder}. */
export interface JobOptions {
  /** Default parallelism of every vertex (default 1). */
  parallelism?: number;
  /** Default max parallelism of every vertex (default: Flink's rule, applied by the Dispatcher). */
  maxParallelism?: number;
  bufferTimeoutMs?: number;
  bufferRecords?: number;
  /** Recorded in the JobGraph's config (informational). */
  args?: string[];
  /** Fixed job id (32 hex digits); usually left to the Dispatcher. */
  jobId?: string;
  /**
   * Flink's execution.runtime-mode. BATCH (for bounded jobs) makes every exchange but `forward` a
   * BLOCKING one, so the job runs stage by stage and a failure restarts only the stage it hit.
   * Default STREAMING.
   */
  runtimeMode?: "STREAMING" | "BATCH";
  /** Periodic checkpoints (see the README); off when absent. */
  checkpointing?: NonNullable<JobGraphSpec["config"]>["checkpointing"];
  /** The job's restart strategy (see the README); default none (exponential-delay with checkpointing). */
  restartStrategy?: NonNullable<JobGraphSpec["config"]>["restartStrategy"];
}

/** The element type at index K of a tuple type T (unknown when T is not a tuple). */
export type FieldOf<T, K> = T extends readonly unknown[] ? (K extends keyof T ? T[K] : unknown) : unknown;

interface Node {
  id: string;
  name: string;
  invokable: string;
  config: Record<string, unknown>;
  parallelism?: number;
  maxParallelism?: number;
  slotSharingGroup?: string;
}

interface Edge {
  source: Node;
  target: Node;
  partitioner?: PartitionerType;
  key?: number | string;
}

interface Partitioning {
  partitioner: PartitionerType;
  key?: number | string;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

function checkParallelism(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 32768) {
    throw new ValidationError(ErrorCode.InvalidParallelism, `${what} must be an integer in [1, 32768], got ${n}`);
  }
  return n;
}

function shortName(invokable: string): string {
  const tail = invokable.slice(invokable.lastIndexOf(".") + 1).replace(/[^A-Za-z0-9_-]/g, "_");
  return tail.slice(0, 48) || "vertex";
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

/** Builds one JobGraph; sources start streams, `build()` returns the JobGraphSpec. */
export class JobBuilder {
  /** @internal */ readonly nodes: Node[] = [];
  /** @internal */ readonly edges: Edge[] = [];
  private defaultParallelism: number;
  private readonly options: JobOptions;

  constructor(readonly jobName: string, options: JobOptions = {}) {
    this.options = { ...options };
    this.defaultParallelism = checkParallelism(options.parallelism ?? 1, "parallelism");
    if (options.maxParallelism !== undefined) checkParallelism(options.maxParallelism, "maxParallelism");
  }

  /** Default parallelism of vertices that do not set their own. */
  get parallelism(): number {
    return this.defaultParallelism;
  }

  /** Sets the default parallelism. */
  setParallelism(n: number): this {
    this.defaultParallelism = checkParallelism(n, "parallelism");
    return this;
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

  /** The lines of a text file (`source.textFile`); parallel subtasks split it by byte ranges. */
  readTextFile(path: string): DataStream<string> {
    return this.addSource<string>("source.textFile", { path }, clip(`Source: readTextFile(${path})`));
  }

  /** A source vertex running any invokable. */
  addSource<T = unknown>(invokable: string, config: Record<string, unknown> = {}, name?: string): DataStream<T> {
    return new DataStream<T>(this, this.addNode(invokable, config, name ?? `Source: ${invokable}`));
  }

  /** @internal */
  addNode(invokable: string, config: Record<string, unknown>, name: string): Node {
    const node: Node = { id: `${shortName(invokable)}-${this.nodes.length}`, name, invokable, config: { ...config } };
    this.nodes.push(node);
    return node;
  }

  /** @internal */
  connect(source: Node, partitioning: Partitioning | undefined, invokable: string, config: Record<string, unknown>, name: string): Node {
    const target = this.addNode(invokable, config, name);
    const edge: Edge = { source, target };
    if (partitioning) {
      edge.partitioner = partitioning.partitioner;
      if (partitioning.key !== undefined) edge.key = partitioning.key;
    }
    this.edges.push(edge);
    return target;
  }

  /**
   * The JobGraph. Edges without an explicit partitioning are `forward` between vertices of equal
   * parallelism and `rebalance` otherwise (as in Flink).
   */
  build(): JobGraphSpec {
    const ids = new Set<string>();
    for (const n of this.nodes) {
      if (ids.has(n.id)) throw new ValidationError(ErrorCode.InvalidJobGraph, `two vertices have the id "${n.id}"; give each a distinct uid()`);
      ids.add(n.id);
    }
    const par = (n: Node) => n.parallelism ?? this.defaultParallelism;
    const vertices: JobVertexSpec[] = this.nodes.map((n) => {
      const v: JobVertexSpec = { id: n.id, name: n.name, invokable: n.invokable, parallelism: par(n) };
      const maxP = n.maxParallelism ?? this.options.maxParallelism;
      if (maxP !== undefined) v.maxParallelism = maxP;
      if (Object.keys(n.config).length > 0) v.config = { ...n.config };
      if (n.slotSharingGroup !== undefined) v.slotSharingGroup = n.slotSharingGroup;
      return v;
    });
    const edges: JobEdgeSpec[] = this.edges.map((e) => {
      const partitioner = e.partitioner ?? (par(e.source) === par(e.target) ? "forward" : "rebalance");
      const spec: JobEdgeSpec = { source: e.source.id, target: e.target.id, partitioner };
      if (e.key !== undefined) spec.key = e.key;
      if (this.options.runtimeMode === "BATCH" && partitioner !== "forward") spec.resultPartitionType = "BLOCKING";
      return spec;
    });
    const spec: JobGraphSpec = { name: this.jobName, vertices, edges };
    if (this.options.jobId !== undefined) spec.jobId = this.options.jobId;
    const config: NonNullable<JobGraphSpec["config"]> = {};
    if (this.options.bufferTimeoutMs !== undefined) config.bufferTimeoutMs = this.options.bufferTimeoutMs;
    if (this.options.bufferRecords !== undefined) config.bufferRecords = this.options.bufferRecords;
    if (this.options.args !== undefined) config.args = [...this.options.args];
    if (this.options.restartStrategy !== undefined) config.restartStrategy = { ...this.options.restartStrategy };
    if (this.options.checkpointing !== undefined) config.checkpointing = { ...this.options.checkpointing };
    if (Object.keys(config).length > 0) spec.config = config;
    return spec;
  }
}

/** A stream of records of type T produced by one vertex (optionally with a partitioning for its next edge). */
export class DataStream<T> {
  /** @internal */
  constructor(
    protected readonly env: JobBuilder,
    /** @internal */ readonly node: Node,
    /** @internal */ readonly partitioning?: Partitioning,
  ) {}

  /** The producing vertex's id. */
  get id(): string {
    return this.node.id;
  }

  /** Sets the vertex's display name. */
  name(name: string): this {
    this.node.name = clip(name);
    return this;
  }

  /** Sets the vertex id (`[A-Za-z0-9_-]{1,64}`, unique in the job). */
  uid(id: string): this {
    if (!ID.test(id)) throw new ValidationError(ErrorCode.InvalidJobGraph, `uid must match [A-Za-z0-9_-]{1,64}, got ${JSON.stringify(id)}`);
    this.node.id = id;
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
    if (!ID.test(group)) throw new ValidationError(ErrorCode.InvalidJobGraph, `slot sharing group must match [A-Za-z0-9_-]{1,64}, got ${JSON.stringify(group)}`);
    this.node.slotSharingGroup = group;
    return this;
  }

  /** Round-robin to all consumer subtasks. */
  rebalance(): DataStream<T> {
    return new DataStream<T>(this.env, this.node, { partitioner: "rebalance" });
  }

  /** Round-robin to a local subset of consumer subtasks. */
  rescale(): DataStream<T> {
    return new DataStream<T>(this.env, this.node, { partitioner: "rescale" });
  }

  /** Every record to every consumer subtask. */
  broadcast(): DataStream<T> {
    return new DataStream<T>(this.env, this.node, { partitioner: "broadcast" });
  }

  /** Subtask i to subtask i (needs equal parallelism). */
  forward(): DataStream<T> {
    return new DataStream<T>(this.env, this.node, { partitioner: "forward" });
  }

  /** Hash-partitions by a field: an index of array records or a field name of object records. */
  keyBy<K extends number | string>(key: K): KeyedStream<T, K> {
    return new KeyedStream<T, K>(this.env, this.node, key);
  }

  /** `op.tokenize`: lines to `[word, 1]` pairs (A-Z lowercased, words are runs of [a-z0-9_]). */
  tokenize(this: DataStream<string>): DataStream<[string, number]> {
    return this.transform<[string, number]>("op.tokenize", {}, "Tokenize");
  }

  /** `op.identity`: the same records. */
  identity(): DataStream<T> {
    return this.transform<T>("op.identity", {}, "Identity");
  }

  /** A downstream vertex running any invokable. */
  transform<R = unknown>(invokable: string, config: Record<string, unknown> = {}, name: string = invokable): DataStream<R> {
    return new DataStream<R>(this.env, this.env.connect(this.node, this.partitioning, invokable, config, name));
  }

  /** `sink.textFile`: one `part-<subtask>` file per subtask in `dir`, one line per record. */
  writeAsText(dir: string): DataStreamSink {
    return this.addSink("sink.textFile", { path: dir }, clip(`Sink: writeAsText(${dir})`));
  }

  /** `sink.discard`: drops the records, counting them (accumulator "records"). */
  discard(): DataStreamSink {
    return this.addSink("sink.discard", {}, "Sink: discard");
  }

  /** A sink vertex running any invokable. */
  addSink(invokable: string, config: Record<string, unknown> = {}, name = `Sink: ${invokable}`): DataStreamSink {
    return new DataStreamSink(this.env.connect(this.node, this.partitioning, invokable, config, name));
  }
}

/** A stream hash-partitioned by key K; its next vertex receives every record of a key in one subtask. */
export class KeyedStream<T, K extends number | string> extends DataStream<T> {
  /** @internal */
  constructor(env: JobBuilder, node: Node, readonly key: K) {
    super(env, node, { partitioner: "hash", key });
  }

  /** `op.countPerKey`: appends each record's running count per key (kept in keyed state). */
  countPerKey(): DataStream<[...(T extends readonly unknown[] ? T : [T]), number]> {
    if (typeof this.key !== "number") {
      throw new ValidationError(ErrorCode.InvalidJobGraph, `countPerKey() needs keyBy(<array index>), not keyBy(${JSON.stringify(this.key)})`);
    }
    return this.transform("op.countPerKey", { keyIndex: this.key }, "Keyed Count");
  }

  /** `op.keyedSum`: `[key, sum of field valueIndex]` per key once the input ends (bounded input). */
  sum(valueIndex = 1): DataStream<[FieldOf<T, K>, number]> {
    if (typeof this.key !== "number") {
      throw new ValidationError(ErrorCode.InvalidJobGraph, `sum() needs keyBy(<array index>), not keyBy(${JSON.stringify(this.key)})`);
    }
    return this.transform<[FieldOf<T, K>, number]>("op.keyedSum", { keyIndex: this.key, valueIndex }, "Keyed Sum");
  }
}

/** The end of a pipeline: a sink vertex. */
export class DataStreamSink {
  /** @internal */
  constructor(/** @internal */ readonly node: Node) {}

  /** The sink vertex's id. */
  get id(): string {
    return this.node.id;
  }

  name(name: string): this {
    this.node.name = clip(name);
    return this;
  }

  uid(id: string): this {
    if (!ID.test(id)) throw new ValidationError(ErrorCode.InvalidJobGraph, `uid must match [A-Za-z0-9_-]{1,64}, got ${JSON.stringify(id)}`);
    this.node.id = id;
    return this;
  }

  setParallelism(n: number): this {
    this.node.parallelism = checkParallelism(n, `parallelism of ${this.node.id}`);
    return this;
  }
}
