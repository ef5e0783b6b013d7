/**
 * The Dispatcher's public NATS API (docs/api.md), defined once: request checkers (the boundary
 * every untrusted body passes) and reply types (what `eddy ... --json` prints). The JobGraph itself
 * is `jobgraph.schema.json` beside this file.
 */
import { s, type Check, type Infer } from "../src/schema/index.js";
import type { ErrorCode } from "../src/core/error-codes.js";
import { MAX_CONFIG_ENTRIES, parseJobConfiguration } from "../src/jobgraph/configuration/index.js";

/** `{jobId}`: the body of requestJob and cancelJob. */
export const JobIdRequest = s.object({ jobId: s.id });
export type JobIdRequest = Infer<typeof JobIdRequest>;

/** `{jobId, timeoutMs?}`: requestJobResult waits up to timeoutMs (default 0: answer at once). */
export const JobResultRequest = s.object({ jobId: s.id, timeoutMs: s.optional(s.int({ min: 0, max: 600_000 })) });
export type JobResultRequest = Infer<typeof JobResultRequest>;

/** `{jobId, stop?, timeoutMs?}`: triggerSavepoint (with `stop`, the job is canceled once the savepoint is complete). */
export const SavepointRequest = s.object({ jobId: s.id, stop: s.optional(s.bool), timeoutMs: s.optional(s.int({ min: 1, max: 3_600_000 })) });
export type SavepointRequest = Infer<typeof SavepointRequest>;

/** `{savepointId}`: disposeSavepoint. */
export const DisposeSavepointRequest = s.object({ savepointId: s.str({ pattern: /^[A-Za-z0-9_-]{1,128}$/ }) });
export type DisposeSavepointRequest = Infer<typeof DisposeSavepointRequest>;

/**
 * `{jobId, vertexId, parallelism?, min?, max?}`: rescaleJob (Flink's externalized declarative
 * resource management, PUT /jobs/:jobid/resource-requirements): the vertex's parallelism bounds,
 * either exactly `parallelism` (min = max) or `min`/`max` (each defaulting to the current bound).
 */
export const RescaleRequest = s.object({
  jobId: s.id,
  vertexId: s.str({ pattern: /^[A-Za-z0-9_-]{1,64}$/ }),
  parallelism: s.optional(s.int({ min: 1, max: 32768 })),
  min: s.optional(s.int({ min: 1, max: 32768 })),
  max: s.optional(s.int({ min: 1, max: 32768 })),
});
export type RescaleRequest = Infer<typeof RescaleRequest>;

/** `rescaleJob`'s reply: the bounds now declared for the (possibly chained) vertex. */
export interface RescaleReply {
  jobId: string;
  vertexId: string;
  min: number;
  max: number;
}

/**
 * A job's Flink configuration (`{key: value}`, `eddy run -D`): only keys and values a job takes
 * (MalformedRequest naming the first that is not).
 */
const jobConfiguration: Check<Record<string, string>> = (v, p) => {
  const entries = s.record(s.str({ max: 4096 }), MAX_CONFIG_ENTRIES)(v, p);
  parseJobConfiguration(entries);
  return entries;
};

/**
 * `{bundle: {id, size}, args?, parallelism?, savepoint?, jobId?, configuration?}`: submitApplication
 * (application mode). The bundle must be in the `<prefix>_bundles` Object Store bucket; the
 * Dispatcher runs its main with `args` and `parallelism` (else `configuration`'s
 * `parallelism.default`), applies `configuration` onto the JobGraph main returns and submits it.
 * Reply as submitJob.
 */
export const SubmitApplicationRequest = s.object({
  bundle: s.object({ id: s.str({ pattern: /^[0-9a-f]{64}$/ }), size: s.int({ min: 1, max: 268_435_456 }) }),
  args: s.optional(s.array(s.str({ max: 4096 }), 1000)),
  parallelism: s.optional(s.int({ min: 1, max: 32768 })),
  savepoint: s.optional(s.str({ pattern: /^[A-Za-z0-9_-]{1,128}$/ })),
  jobId: s.optional(s.id),
  configuration: s.optional(jobConfiguration),
});
export type SubmitApplicationRequest = Infer<typeof SubmitApplicationRequest>;

/** `submitJob`'s reply. */
export interface SubmitJobReply {
  jobId: string;
}

/** One row of `listJobs` / `eddy list --json`. */
export interface JobOverview {
  id: string;
  name: string;
  state: string;
  startTime: number;
  endTime: number | null;
}

/** `requestJobsOverview`: a row of `listJobs` with its subtasks counted by state (Flink's /jobs/overview). */
export interface JobTasksOverview extends JobOverview {
  /** Subtasks per execution state (every state, zeros included) and `total`. */
  tasks: Record<string, number>;
}

/** A failure as reported in job details and results. */
export interface FailureView {
  /** One of docs/error-codes.md. */
  code: ErrorCode;
  name: string;
  message: string;
  stack?: string;
}

/** One subtask in `requestJob`; `timestamps`: when the current attempt entered each state (ms since the epoch). */
export interface SubtaskView {
  index: number;
  state: string;
  attempt: number;
  taskExecutor: string | null;
  /** The slot's index on its TaskExecutor, while it has one. */
  slot?: number;
  timestamps: Record<string, number>;
}

/** One vertex in `requestJob`. */
export interface VertexView {
  id: string;
  name: string;
  parallelism: number;
  maxParallelism: number;
  state: string;
  subtasks: SubtaskView[];
}

/** Checkpoint statistics in `requestJob`. */
export interface CheckpointsView {
  completed: number;
  failed: number;
  latest: { id: number; durationMs: number; bytes: number } | null;
}

/** `requestJob` / `eddy status --json`: the job with its vertices and subtasks. */
export interface JobDetails {
  id: string;
  name: string;
  state: string;
  startTime: number;
  endTime: number | null;
  /** When the job entered each status (ms since the epoch). */
  timestamps: Record<string, number>;
  /** The root cause once the job failed. */
  failure: FailureView | null;
  vertices: VertexView[];
  checkpoints: CheckpointsView;
}

/** `requestJobResult`'s reply once the job is terminal. */
export interface JobResultReply {
  jobId: string;
  state: string;
  netRuntimeMs: number;
  accumulators: Record<string, number>;
  failure: FailureView | null;
}

/** A leader as `clusterInfo` shows it. */
export interface LeaderView {
  id: string;
  pid: number;
  host: string;
  since: number;
  /** The leading JobManager's HTTP address (REST and dashboard), when it serves one. */
  web?: string;
}

/** A TaskExecutor as `clusterInfo` shows it. */
export interface TaskExecutorView {
  id: string;
  pid: number;
  host: string;
  slots: number;
  freeSlots: number;
}

/** `clusterInfo` / `eddy info --json`. */
export interface ClusterInfo {
  leaders: { dispatcher: LeaderView | null; resourceManager: LeaderView | null };
  taskExecutors: TaskExecutorView[];
  /** The leading JobManager's HTTP address (REST and dashboard); null when it serves none. */
  web: string | null;
}

/**
 * One entry of a job's exception history (Flink's FLIP-241 ExceptionInfo): a task failure (with the
 * task and the TaskExecutor it ran on) or a global failure (no task, no location).
 */
export interface ExceptionEntry {
  exceptionName: string;
  stacktrace: string;
  /** When the failure was handled, ms since the epoch. */
  timestamp: number;
  /** `<vertex name> (<subtask+1>/<parallelism>)`, null for a global failure. */
  taskName: string | null;
  /** `<TaskExecutor id> (<host>)` (the host when known), null for a global failure. */
  location: string | null;
  taskManagerId: string | null;
  /** One of docs/error-codes.md. */
  code: ErrorCode;
}

/** `requestJobExceptions`: the newest failures first, bounded; `truncated` once older ones were dropped. */
export interface ExceptionHistoryView {
  entries: ExceptionEntry[];
  truncated: boolean;
}

/** One checkpoint in the checkpoint statistics (Flink's CheckpointStatistics, its snake_case names). */
export interface CheckpointSummary {
  id: number;
  status: "IN_PROGRESS" | "COMPLETED" | "FAILED";
  is_savepoint: boolean;
  trigger_timestamp: number;
  /** The last acknowledgement's time (the trigger's while none came). */
  latest_ack_timestamp: number;
  state_size: number;
  /** Trigger to completion or failure (to now while in progress), ms. */
  end_to_end_duration: number;
  num_subtasks: number;
  num_acknowledged_subtasks: number;
  failure_timestamp?: number;
  failure_message?: string;
}

/** The checkpointing settings of a job (Flink's CheckpointConfigInfo, as far as Eddy has them). */
export interface CheckpointConfigView {
  mode: "exactly_once";
  interval: number;
  timeout: number;
  min_pause: number;
  max_concurrent: number;
  tolerable_failed_checkpoints: number;
  /** Completed checkpoints kept in the store. */
  retained_checkpoints: number;
  externalization: { enabled: boolean; delete_on_cancellation: boolean };
  checkpoints_after_tasks_finish: boolean;
  checkpoint_storage: string;
}

/** `requestJobCheckpoints` (Flink's CheckpointingStatistics plus the job's config; null without checkpointing). */
export interface CheckpointStatsView {
  counts: { restored: number; total: number; in_progress: number; completed: number; failed: number };
  latest: {
    completed: CheckpointSummary | null;
    savepoint: CheckpointSummary | null;
    failed: CheckpointSummary | null;
    restored: { id: number; restore_timestamp: number; is_savepoint: boolean } | null;
  };
  /** The last checkpoints, newest first. */
  history: CheckpointSummary[];
  config: CheckpointConfigView | null;
}

/** How records travel along an edge of the plan, as Flink names it. */
export type ShipStrategy = "FORWARD" | "HASH" | "REBALANCE" | "RESCALE" | "BROADCAST";

/** `requestJobPlan`: the job's (chained) vertices and edges (Flink's JobPlanInfo). */
export interface JobPlanView {
  jid: string;
  name: string;
  nodes: Array<{
    id: string;
    description: string;
    parallelism: number;
    maxParallelism: number;
    operator: string;
    inputs: Array<{ num: number; id: string; ship_strategy: ShipStrategy; exchange: "pipelined" | "blocking" }>;
  }>;
}
