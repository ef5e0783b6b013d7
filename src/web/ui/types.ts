/**
 * The REST and SSE bodies the dashboard reads (docs/api.md), as far as it reads them. Every field the
 * page shows is here; fields a server may omit (an older JobManager, a metric not reported yet) are
 * optional so that a view shows "–" instead of failing.
 */

export interface ClusterOverview {
  taskmanagers: number;
  "slots-total": number;
  "slots-available": number;
  "jobs-running": number;
  "jobs-finished": number;
  "jobs-cancelled": number;
  "jobs-failed": number;
  "eddy-version"?: string;
}

export interface JobOverview {
  jid: string;
  name: string;
  state: string;
  "start-time": number;
  "end-time": number;
  duration: number;
  tasks: Record<string, number>;
}

export interface JobsOverview {
  jobs: JobOverview[];
}

/** The body of the SSE `overview` event. */
export interface OverviewEvent {
  overview: ClusterOverview;
  jobs: JobsOverview;
}

/** Per vertex (summed over subtasks) or per subtask. */
export interface VertexMetrics {
  "read-records"?: number;
  "write-records"?: number;
  "read-bytes"?: number;
  "write-bytes"?: number;
  "read-records-per-second"?: number;
  "write-records-per-second"?: number;
  "backpressure-ratio"?: number;
  "busy-ratio"?: number;
  "current-input-watermark"?: number | null;
}

export interface JobVertex {
  id: string;
  name: string;
  parallelism: number;
  maxParallelism?: number;
  status: string;
  tasks?: Record<string, number>;
  metrics?: VertexMetrics;
  "backpressure-level"?: BackPressureLevel;
}

export interface PlanNode {
  id: string;
  description?: string;
  parallelism?: number;
  inputs?: Array<{ id: string; ship_strategy?: string }>;
}

export interface JobDetails {
  jid: string;
  name: string;
  state: string;
  "start-time": number;
  "end-time": number;
  duration: number;
  now?: number;
  timestamps?: Record<string, number>;
  vertices: JobVertex[];
  plan?: { nodes: PlanNode[] };
  checkpoints?: { completed?: number; failed?: number; in_progress?: number };
  numRestarts?: number;
}

export type BackPressureLevel = "ok" | "low" | "high";

export interface SubtaskDetails {
  subtask: number;
  status: string;
  attempt?: number;
  "taskmanager-id"?: string;
  host?: string;
  "start-time"?: number;
  duration?: number;
  metrics?: VertexMetrics;
}

export interface VertexDetails {
  id: string;
  name: string;
  parallelism: number;
  now?: number;
  total?: number;
  subtasks: SubtaskDetails[];
}

export interface ExceptionEntry {
  exceptionName: string;
  stacktrace?: string;
  timestamp: number;
  taskName?: string | null;
  location?: string | null;
}

export interface JobExceptions {
  exceptionHistory: { entries: ExceptionEntry[] };
}

export interface CheckpointEntry {
  id: number;
  status: string;
  is_savepoint?: boolean;
  trigger_timestamp: number;
  latest_ack_timestamp?: number;
  state_size?: number;
  end_to_end_duration?: number;
  num_subtasks?: number;
  num_acknowledged_subtasks?: number;
  external_path?: string;
  failure_message?: string;
}

export interface RestoredCheckpoint {
  id: number;
  restore_timestamp?: number;
  is_savepoint?: boolean;
  external_path?: string;
}

export interface CheckpointStats {
  counts: { restored?: number; total?: number; in_progress?: number; completed?: number; failed?: number };
  latest?: {
    completed?: CheckpointEntry | null;
    savepoint?: CheckpointEntry | null;
    failed?: (CheckpointEntry & { failure_timestamp?: number; failure_message?: string }) | null;
    restored?: RestoredCheckpoint | null;
  };
  history: CheckpointEntry[];
}

export interface CheckpointConfig {
  mode?: string;
  interval?: number;
  timeout?: number;
  min_pause?: number;
  max_concurrent?: number;
  externalization?: { enabled?: boolean; delete_on_cancellation?: boolean };
  [key: string]: unknown;
}

export interface Throughput {
  vertices: Record<string, Array<{ t: number; in: number; out: number }>>;
}

export interface TaskManager {
  id: string;
  host?: string;
  pid?: number;
  slotsNumber: number;
  freeSlots: number;
  /** The last heartbeat, ms since the epoch (Flink's name for it). */
  timeSinceLastHeartbeat?: number;
  hardware?: { cpuCores?: number; physicalMemory?: number };
}

export interface TaskManagers {
  taskmanagers: TaskManager[];
}

export interface SlotTask {
  jobId: string;
  vertexId: string;
  subtask: number;
  /** The task's name with its subtask, as `Map (2/4)`. */
  name: string;
}

export interface TaskManagerDetails extends TaskManager {
  metrics?: Record<string, number>;
  slots?: Array<{ index: number; jobId?: string | null; tasks: SlotTask[] }>;
}

export interface SavepointStatus {
  status: { id: "IN_PROGRESS" | "COMPLETED" };
  operation?: { location?: string; "failure-cause"?: { class?: string; code?: string; message?: string; "stack-trace"?: string } | string };
}
