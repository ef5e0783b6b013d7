/**
 * The graph the stream API builds before it becomes a JobGraph (Flink's StreamGraph): operator
 * nodes, the edges between them, and the user functions they call. `build()` turns it into the
 * JobGraphSpec (plain JSON) with the functions attached under {@link USER_FUNCTIONS}: each function's
 * ref is `<vertex id>#<slot>`, derived from the graph alone, so the same main with the same arguments
 * builds the same refs on the client and on every worker. Bundle-friendly: no Node built-ins.
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { JobEdgeSpec, JobGraphSpec, JobVertexSpec, PartitionerType } from "../jobgraph/types.js";
import { USER_FUNCTIONS } from "../runtime/api.js";

/** Job-wide options of a stream execution environment. */
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
  /** Periodic checkpoints (see docs/checkpoints.md); off when absent. */
  checkpointing?: NonNullable<JobGraphSpec["config"]>["checkpointing"];
  /** The job's restart strategy (see docs/jobgraph.md); default none (exponential-delay with checkpointing). */
  restartStrategy?: NonNullable<JobGraphSpec["config"]>["restartStrategy"];
}

/** A user function in a node's config, replaced by its ref at build time. */
export class FnRef {
  constructor(
    readonly owner: StreamNode,
    readonly slot: string,
    readonly fn: unknown,
  ) {}
}

/** One operator (a JobVertex to be). */
export interface StreamNode {
  id: string;
  name: string;
  invokable: string;
  /** May hold {@link FnRef}s at any depth. */
  config: Record<string, unknown>;
  parallelism?: number;
  maxParallelism?: number;
  slotSharingGroup?: string;
  /** Subtask i of every node in the group runs in the same slot. */
  coLocationGroup?: string;
  chaining?: boolean | "head";
  /** Takes parallelism, max parallelism and slot sharing group from this node unless set (keyBy extractors, watermark assigners). */
  follows?: StreamNode;
  /** Side output tags read downstream (getSideOutput), in output order after the main output. */
  sides: string[];
  /** A non-parallel operator (parallelism must stay 1). */
  nonParallel?: string;
}

/** An edge between two nodes; `output` picks a side output (0 = main) of a node with side outputs. */
export interface StreamEdge {
  source: StreamNode;
  target: StreamNode;
  partitioner?: PartitionerType;
  /** The hash key: an index or field, or a key selector (the edge's `keySelector`). */
  key?: number | string | FnRef;
  output: number;
}

/** How records of one input of an operator look: keyed (envelope or field), with a timestamp assigner. */
export interface StreamInput {
  node: StreamNode;
  partitioner?: PartitionerType;
  /** The hash key of the edge: an index, a field or a key selector. */
  hashKey?: number | string | FnRef;
  /**
   * How the operator reading this input finds a record's key: a key selector it applies again, `[key,
   * value]` envelopes (the actors' internal keying), or a field.
   */
  key?: "envelope" | { field: number | string } | { selector: FnRef };
  /** The stream's timestamp assigner, or "envelope": the `[key, value, timestamp]` records carry it. */
  ts?: FnRef | "envelope";
  /** The output of `node` this input reads (0 = main). */
  output: number;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws InvalidParallelism unless n is an integer in [1, 32768]. */
export function checkParallelism(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 32768) {
    throw new ValidationError(ErrorCode.InvalidParallelism, `${what} must be an integer in [1, 32768], got ${n}`);
  }
  return n;
}

/** Throws InvalidJobGraph unless `id` can be a vertex id or group name. */
export function checkId(id: string, what: string): string {
  if (!ID.test(id)) throw new ValidationError(ErrorCode.InvalidJobGraph, `${what} must match [A-Za-z0-9_-]{1,64}, got ${JSON.stringify(id)}`);
  return id;
}

function shortName(invokable: string): string {
  const tail = invokable.slice(invokable.lastIndexOf(".") + 1).replace(/[^A-Za-z0-9_-]/g, "_");
  return tail.slice(0, 48) || "vertex";
}

/** Cuts display names to 200 characters. */
export function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

/** The nodes, edges and options of one job. */
export class StreamGraph {
  readonly nodes: StreamNode[] = [];
  readonly edges: StreamEdge[] = [];
  /** Key selectors registered so far (their slots are `key0`, `key1`...: the same on every worker). */
  private keySelectors = 0;
  /** Iterations' ways back, tail to head (JobEdgeSpec.feedback). */
  readonly feedbackEdges: Array<{ tail: StreamNode; head: StreamNode }> = [];
  defaultParallelism: number;

  constructor(
    readonly jobName: string,
    readonly options: JobOptions,
  ) {
    this.defaultParallelism = checkParallelism(options.parallelism ?? 1, "parallelism");
    if (options.maxParallelism !== undefined) checkParallelism(options.maxParallelism, "maxParallelism");
  }

  /** A new node; `fns` go into its config as {@link FnRef}s under their slot names. */
  addNode(invokable: string, config: Record<string, unknown>, name: string, fns: Record<string, unknown> = {}): StreamNode {
    const node: StreamNode = { id: `${shortName(invokable)}-${this.nodes.length}`, name: clip(name), invokable, config: { ...config }, sides: [] };
    for (const [slot, fn] of Object.entries(fns)) {
      if (fn === undefined) continue;
      node.config[slot] = new FnRef(node, slot, fn);
    }
    this.nodes.push(node);
    return node;
  }

  /** A key selector of `owner`'s output, shipped with the job's code (`keyBy(fn)`). */
  keySelector(owner: StreamNode, fn: unknown): FnRef {
    return new FnRef(owner, `key${this.keySelectors++}`, fn);
  }

  /** Edges from every input to `target`, in order (the target's gates follow this order). */
  connect(inputs: readonly StreamInput[], target: StreamNode): void {
    for (const i of inputs) {
      const e: StreamEdge = { source: i.node, target, output: i.output };
      if (i.partitioner) e.partitioner = i.partitioner;
      if (i.hashKey !== undefined) e.key = i.hashKey;
      this.edges.push(e);
    }
  }

  /**
   * Closes an iteration: a feedback edge from `tail` back to `head`, which must share a co-location
   * group (records on it travel in memory between the two subtasks of one slot).
   */
  closeIteration(tail: StreamNode, head: StreamNode): void {
    this.feedbackEdges.push({ tail, head });
  }

  /** Index of side output `tag` of `node` (1-based; registers it on first use). */
  sideOutput(node: StreamNode, tag: string): number {
    let i = node.sides.indexOf(tag);
    if (i < 0) {
      node.sides.push(tag);
      i = node.sides.length - 1;
    }
    return i + 1;
  }

  /**
   * The JobGraph. Edges without an explicit partitioning are `forward` between vertices of equal
   * parallelism and `rebalance` otherwise (as in Flink). An edge reading a side output names it
   * (`output`), so the operator sends each side output's records only to its readers.
   */
  build(): JobGraphSpec {
    const { nodes, edges } = this;
    const resolve = <K extends "parallelism" | "maxParallelism" | "slotSharingGroup">(n: StreamNode, k: K): StreamNode[K] => {
      for (let m: StreamNode | undefined = n, hops = 0; m && hops < 1000; m = m.follows, hops++) if (m[k] !== undefined) return m[k];
      return undefined;
    };
    const par = (n: StreamNode): number => resolve(n, "parallelism") ?? this.defaultParallelism;
    const ids = new Set<string>();
    for (const n of nodes) {
      if (ids.has(n.id)) throw new ValidationError(ErrorCode.InvalidJobGraph, `two vertices have the id "${n.id}"; give each a distinct uid()`);
      ids.add(n.id);
      if (n.nonParallel && par(n) !== 1)
        throw new ValidationError(
          ErrorCode.InvalidParallelism,
          `${n.nonParallel} (vertex "${n.id}") is not parallel: its parallelism must be 1, got ${par(n)}`,
        );
    }
    const functions = new Map<string, unknown>();
    const vertices: JobVertexSpec[] = nodes.map((n) => {
      const v: JobVertexSpec = { id: n.id, name: n.name, invokable: n.invokable, parallelism: par(n) };
      const maxP = resolve(n, "maxParallelism") ?? this.options.maxParallelism;
      if (maxP !== undefined) v.maxParallelism = maxP;
      const config = materialize(n.config, functions) as Record<string, unknown>;
      if (n.sides.length > 0) config.sides = [...n.sides];
      if (n.invokable === "eddy.stream.window" && typeof config.lateTag === "string" && !n.sides.includes(config.lateTag)) delete config.lateTag;
      if (Object.keys(config).length > 0) v.config = config;
      const ssg = resolve(n, "slotSharingGroup");
      if (ssg !== undefined) v.slotSharingGroup = ssg;
      if (n.coLocationGroup !== undefined) v.coLocationGroup = n.coLocationGroup;
      if (n.chaining !== undefined && n.chaining !== true) v.chaining = n.chaining;
      return v;
    });
    const edgeSpecs: JobEdgeSpec[] = edges.map((e) => {
      const partitioner = e.partitioner ?? (par(e.source) === par(e.target) ? "forward" : "rebalance");
      const spec: JobEdgeSpec = { source: e.source.id, target: e.target.id, partitioner };
      if (e.output > 0) spec.output = e.output;
      if (e.key instanceof FnRef) spec.keySelector = materialize(e.key, functions) as string;
      else if (e.key !== undefined) spec.key = e.key;
      if (this.options.runtimeMode === "BATCH" && partitioner !== "forward") spec.resultPartitionType = "BLOCKING";
      return spec;
    });
    for (const { tail, head } of this.feedbackEdges) edgeSpecs.push({ source: tail.id, target: head.id, partitioner: "forward", feedback: true });
    const spec: JobGraphSpec = { name: this.jobName, vertices, edges: edgeSpecs };
    if (this.options.jobId !== undefined) spec.jobId = this.options.jobId;
    const config: NonNullable<JobGraphSpec["config"]> = {};
    if (this.options.bufferTimeoutMs !== undefined) config.bufferTimeoutMs = this.options.bufferTimeoutMs;
    if (this.options.bufferRecords !== undefined) config.bufferRecords = this.options.bufferRecords;
    if (this.options.args !== undefined) config.args = [...this.options.args];
    if (this.options.restartStrategy !== undefined) config.restartStrategy = { ...this.options.restartStrategy };
    if (this.options.checkpointing !== undefined) config.checkpointing = { ...this.options.checkpointing };
    if (Object.keys(config).length > 0) spec.config = config;
    if (functions.size > 0) (spec as JobGraphSpec & { [USER_FUNCTIONS]?: Map<string, unknown> })[USER_FUNCTIONS] = functions;
    return spec;
  }
}

/** A copy of `v` with every {@link FnRef} replaced by its ref (and recorded in `functions`). */
function materialize(v: unknown, functions: Map<string, unknown>): unknown {
  if (v instanceof FnRef) {
    const ref = `${v.owner.id}#${v.slot}`;
    functions.set(ref, v.fn);
    return ref;
  }
  if (Array.isArray(v)) return v.map((x) => materialize(x, functions));
  if (typeof v === "object" && v !== null) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = materialize(x, functions);
    return o;
  }
  return v;
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
