/**
 * What the metric system answers (Flink's MetricStore as its REST handlers read it). The JobManager
 * process keeps one store fed by the reports TaskExecutors, JobMasters and the ResourceManager publish
 * on NATS every second; the web server (REST, `/metrics`, the dashboard) reads it through this view.
 *
 * Metric names are Flink's (`numRecordsIn`, `busyTimeMsPerSecond`, `numRestarts`...); a rate
 * (`...PerSecond`) is computed by the store from consecutive reports of its counter.
 */

/** Metric name -> value. */
export type MetricValues = Record<string, number>;

/** The metrics of one subtask (its current attempt). */
export interface SubtaskMetrics {
  subtask: number;
  attempt: number;
  /** The TaskExecutor running it. */
  taskExecutorId: string;
  /** When the store last heard of it, ms since the epoch. */
  updatedAt: number;
  values: MetricValues;
}

/** One point of a vertex's throughput history. */
export interface ThroughputPoint {
  /** ms since the epoch. */
  t: number;
  recordsInPerSecond: number;
  recordsOutPerSecond: number;
}

/** The read side of the metric store. Every call is synchronous and cheap (no I/O). */
export interface MetricQuery {
  /** Job scope: numRestarts, uptime, runningTime, lastCheckpointDuration, lastCheckpointSize, numberOf*Checkpoints, lastCheckpointRestoreTimestamp. */
  job(jobId: string): MetricValues;
  /** Every subtask of a vertex that reported, by subtask index. */
  subtasks(jobId: string, vertexId: string): SubtaskMetrics[];
  /** A vertex's subtasks aggregated: counters and rates summed, times per second and watermarks as Flink's web UI shows them (max / min). */
  vertex(jobId: string, vertexId: string): MetricValues;
  /** The last minutes of a vertex's throughput, oldest first (one point per report interval). */
  throughput(jobId: string, vertexId: string): ThroughputPoint[];
  /** TaskExecutor scope: slots, heap, RSS, CPU load, event-loop lag (process and per slot thread). */
  taskExecutor(taskExecutorId: string): MetricValues;
  /** When the TaskExecutor last reported, ms since the epoch (undefined: never). */
  lastReport(taskExecutorId: string): number | undefined;
  /** Cluster scope: numRegisteredTaskManagers, taskSlotsTotal, taskSlotsAvailable, numRunningJobs. */
  cluster(): MetricValues;
  /** Every metric in the Prometheus text format 0.0.4 (`eddy_<scope>_<name>`, labels job_id, job_name, task_name, subtask_index, tm_id). */
  prometheus(): string;
}
