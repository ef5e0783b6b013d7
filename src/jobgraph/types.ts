/**
 * The JobGraph: what a client submits. The wire form is checked against
 * `schemas/jobgraph.schema.json`; these types mirror it and are the only TypeScript spelling of it.
 */

/** How producer subtasks connect to consumer subtasks (Flink's DistributionPattern). */
export type DistributionPattern = "POINTWISE" | "ALL_TO_ALL";

/** How a record picks its consumer subtask. */
export type PartitionerType = "forward" | "rescale" | "rebalance" | "hash" | "broadcast";

/** When a result may be consumed: while produced, or once complete (Flink's ResultPartitionType). */
export type ResultPartitionType = "PIPELINED" | "BLOCKING";

/** One operator of the dataflow. */
export interface JobVertexSpec {
  /** Unique within the graph, `[A-Za-z0-9_-]{1,64}`. */
  id: string;
  name?: string;
  /** A built-in invokable name (see src/runtime/invokables) or a user one. */
  invokable: string;
  /** 1..Limits.maxParallelism. */
  parallelism: number;
  /** Upper bound for rescaling and the number of key groups; default per Flink's rule. */
  maxParallelism?: number;
  /** Settings of the invokable, checked by the invokable's own validator. */
  config?: Record<string, unknown>;
  /** Slot sharing group (default "default"). */
  slotSharingGroup?: string;
  /**
   * Co-location group (Flink's CoLocationGroup): subtask i of every vertex in the group runs in the
   * same slot, also after a restart. Members need equal parallelism and the same slot sharing group.
   */
  coLocationGroup?: string;
  /**
   * False: never chained with a neighbour into one task (Flink's `disableChaining()`); "head": starts a
   * new chain, never chained to its upstream vertex (Flink's `startNewChain()`); default true.
   */
  chaining?: boolean | "head";
}

/** A data connection between two vertices. */
export interface JobEdgeSpec {
  source: string;
  target: string;
  partitioner: PartitionerType;
  /** For `hash`: index (array records) or field name (object records) of the key; absent: the whole record. */
  key?: number | string;
  /**
   * For `hash`, instead of `key`: the ref of a key selector in the job's code (the stream API's
   * `keyBy(fn)`). The producer applies it to route each record and the consumer applies it again to
   * find the record's key, as Flink's KeySelector: the records travel as they are.
   */
  keySelector?: string;
  /**
   * The side output of the source vertex this edge carries (1-based, in the order of the source's
   * `config.sides`); absent: its main output. Flink's OutputTag on a stream edge: a record goes only to
   * the edges of the output it was emitted to.
   */
  output?: number;
  /** Derived from the partitioner when absent (forward/rescale: POINTWISE, others ALL_TO_ALL). */
  distribution?: DistributionPattern;
  resultPartitionType?: ResultPartitionType;
  /**
   * The way back of an iteration (Flink's `IterativeStream.closeWith`): from an iteration tail to its
   * head, the only edge that may close a cycle. Its ends share a co-location group and the partitioner
   * is `forward`: subtask i of the tail hands records to subtask i of the head in memory.
   */
  feedback?: boolean;
}

/** A validated feedback edge (see {@link JobEdgeSpec.feedback}): kept apart from the data edges, which stay acyclic. */
export interface FeedbackEdge {
  /** The iteration tail. */
  source: string;
  /** The iteration head (in the tail's co-location group, whose in-memory channel carries the edge). */
  target: string;
}

/** A restart strategy and its settings (Flink's restart-strategy.*); omitted fields take Flink's defaults. */
export type RestartStrategyConfig =
  | { type: "none" }
  | { type: "fixed-delay"; attempts?: number; delayMs?: number }
  | { type: "failure-rate"; maxFailuresPerInterval?: number; intervalMs?: number; delayMs?: number }
  | {
      type: "exponential-delay";
      initialBackoffMs?: number;
      maxBackoffMs?: number;
      backoffMultiplier?: number;
      jitterFactor?: number;
      resetBackoffThresholdMs?: number;
      attemptsBeforeResetBackoff?: number;
    };

/** How a failure is recovered (Flink's jobmanager.execution.failover-strategy). */
export type FailoverStrategyName = "full" | "region";

/** Periodic checkpointing (Flink's execution.checkpointing.*); omitted fields take Flink's defaults. */
export interface CheckpointingConfig {
  /** Trigger interval, ms. */
  intervalMs: number;
  /** A checkpoint not complete after this long is aborted. Default 10 min. */
  timeoutMs?: number;
  /** Least time between the end of one checkpoint and the start of the next. Default 0. */
  minPauseMs?: number;
  /** Checkpoints in flight at once. Default 1. */
  maxConcurrent?: number;
  /** Failed checkpoints in a row tolerated before the job fails. Default 0. */
  tolerableFailures?: number;
  /** Completed checkpoints kept. Default 1. */
  retain?: number;
}

/** Which scheduler runs a job (Flink's jobmanager.scheduler). */
export type SchedulerType = "default" | "adaptive" | "adaptive-batch";

/** Adaptive batch scheduling (Flink's execution.batch.adaptive.auto-parallelism.*). */
export interface AdaptiveBatchConfig {
  /** Least parallelism decided. Default 1. */
  minParallelism?: number;
  /** Most parallelism decided (also bounded by the vertex's max parallelism). Default 128. */
  maxParallelism?: number;
  /** Input bytes per subtask. Default 16 MiB. */
  avgDataVolumePerTaskBytes?: number;
}

/** Job-wide settings. */
export interface JobConfig {
  /** The scheduler; absent: the cluster's (`eddy jobmanager --scheduler`). */
  scheduler?: SchedulerType;
  /** Reactive mode with the adaptive scheduler; absent: the cluster's (`--reactive`). */
  reactive?: boolean;
  /** Settings of adaptive batch scheduling. */
  adaptiveBatch?: AdaptiveBatchConfig;
  /**
   * Parallelism bounds declared while the job ran (`eddy rescale`), by vertex id: kept with the JobGraph
   * in the ExecutionPlanStore (Flink's JobResourceRequirements), so a recovered job keeps them.
   */
  resourceRequirements?: Record<string, { lower: number; upper: number }>;
  /** Off when absent. */
  checkpointing?: CheckpointingConfig;
  /** Resume from this savepoint (set by `eddy run --from-savepoint`). */
  savepoint?: string;
  /** Default: none (exponential-delay once checkpointing is on). */
  restartStrategy?: RestartStrategyConfig;
  /** Default: region. */
  failoverStrategy?: FailoverStrategyName;
  /** Output flush interval for partially filled buffers (Flink's buffer timeout), ms. Default 100. */
  bufferTimeoutMs?: number;
  /** Records per network buffer upper bound (default 4096: links that encode also stop at about 32 KiB). */
  bufferRecords?: number;
  /** Arguments the job's main was called with (`eddy run FILE -- ARGS`); main gets them again on every worker. */
  args?: string[];
  /** The default parallelism main was called with (`--parallelism`, else `-D parallelism.default`), when given; main gets it again on every worker. */
  parallelism?: number;
}

/** An invokable the job's bundle exports (`export const invokables`), declared so the graph validates without the code. */
export interface BundleInvokableSpec {
  name: string;
  kind: InvokableKind;
}

/** What an invokable is to the graph: `source` (no inputs), `operator` or `sink` (no outputs). */
export type InvokableKind = "source" | "operator" | "sink";

/**
 * The job's code (Flink's user jar): a bundle in the `<prefix>_bundles` Object Store bucket, named by
 * the SHA-256 of its bytes. TaskExecutors fetch, verify and load it, and run the job's main again to
 * get its functions and invokables.
 */
export interface JobBundleSpec {
  /** SHA-256 of the bundle's bytes, 64 lowercase hex digits. */
  id: string;
  /** Size in bytes. */
  size: number;
  /** The custom invokables the bundle exports, so that vertices may name them. */
  invokables?: BundleInvokableSpec[];
}

/** The submitted JobGraph. */
export interface JobGraphSpec {
  /** 32 lowercase hex digits; assigned by the Dispatcher when absent. */
  jobId?: string;
  name: string;
  vertices: JobVertexSpec[];
  edges: JobEdgeSpec[];
  config?: JobConfig;
  /** The job's code, when it ships any (`eddy run` sets it). */
  bundle?: JobBundleSpec;
}

/** A JobGraph after validation: ids assigned, defaults filled, vertices in topological order. */
export interface JobGraph {
  jobId: string;
  name: string;
  vertices: Array<
    Required<Pick<JobVertexSpec, "id" | "name" | "invokable" | "parallelism" | "maxParallelism" | "slotSharingGroup">> & {
      config: Record<string, unknown>;
      /** Filled in (true) by validation; absent means true. */
      chaining?: boolean | "head";
      coLocationGroup?: string;
    }
  >;
  edges: Array<
    Required<Pick<JobEdgeSpec, "source" | "target" | "partitioner" | "distribution" | "resultPartitionType">> & {
      key?: number | string;
      keySelector?: string;
      output?: number;
    }
  >;
  config: Required<Pick<JobConfig, "bufferTimeoutMs" | "bufferRecords">> & JobConfig;
  bundle?: JobBundleSpec;
  /** The iterations' ways back, when the graph has any; `edges` holds the data edges only and is acyclic. */
  feedbackEdges?: FeedbackEdge[];
}

export type JobVertex = JobGraph["vertices"][number];
export type JobEdge = JobGraph["edges"][number];
