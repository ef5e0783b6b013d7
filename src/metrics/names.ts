/**
 * Every metric Eddy reports, with its scope, Prometheus type and meaning: the one list the store, the
 * Prometheus rendering and docs/metrics.md follow. Names are Flink's. Counters are exported to
 * Prometheus as gauges, as Flink's Prometheus reporter does (a counter restarts with each attempt).
 */

/** Where a metric lives (Flink's scope), and the prefix of its Prometheus name. */
export type MetricScope = "cluster" | "job" | "taskmanager" | "task";

/** One metric's definition. */
export interface MetricDef {
  name: string;
  scope: MetricScope;
  help: string;
}

/** The Prometheus name prefix of each scope: `eddy_<scope>_<name>`. */
export const SCOPE_PREFIX: Readonly<Record<MetricScope, string>> = {
  cluster: "eddy_jobmanager_",
  job: "eddy_jobmanager_job_",
  taskmanager: "eddy_taskmanager_",
  task: "eddy_taskmanager_job_task_",
};

/**
 * The values a task reports, in wire order (report.ts sends them as one array). Times are cumulative
 * ms; the store turns them and the counters into the per-second metrics of {@link TASK_RATES}.
 */
export const TASK_FIELDS = [
  "numRecordsIn",
  "numRecordsOut",
  "numBytesIn",
  "numBytesOut",
  "accumulatedBusyTime",
  "accumulatedIdleTime",
  "accumulatedBackPressuredTime",
  "currentInputWatermark",
  "currentOutputWatermark",
  "buffers.inPoolUsage",
  "buffers.outPoolUsage",
  "stateSize",
] as const;
export type TaskField = (typeof TASK_FIELDS)[number];

/** Index of each field in a task's value array. */
export const F = Object.fromEntries(TASK_FIELDS.map((n, i) => [n, i])) as { readonly [K in TaskField]: number };

/** Each rate the store derives, and the cumulative value it is derived from. */
export const TASK_RATES: ReadonlyArray<readonly [rate: string, of: TaskField]> = [
  ["numRecordsInPerSecond", "numRecordsIn"],
  ["numRecordsOutPerSecond", "numRecordsOut"],
  ["numBytesInPerSecond", "numBytesIn"],
  ["numBytesOutPerSecond", "numBytesOut"],
  ["busyTimeMsPerSecond", "accumulatedBusyTime"],
  ["idleTimeMsPerSecond", "accumulatedIdleTime"],
  ["backPressuredTimeMsPerSecond", "accumulatedBackPressuredTime"],
];

const def = (scope: MetricScope, list: ReadonlyArray<readonly [string, string]>): MetricDef[] => list.map(([name, help]) => ({ name, scope, help }));

/** Every metric, by scope. */
export const METRICS: readonly MetricDef[] = [
  ...def("cluster", [
    ["numRegisteredTaskManagers", "TaskExecutors registered at the ResourceManager."],
    ["taskSlotsTotal", "Slots of all registered TaskExecutors."],
    ["taskSlotsAvailable", "Slots not allocated to a job."],
    ["numRunningJobs", "Jobs whose latest job report is not in a terminal state."],
  ]),
  ...def("job", [
    ["numRestarts", "Restarts of the job since it was submitted (full and regional failovers)."],
    ["uptime", "ms the job has been RUNNING without interruption; -1 when not running."],
    ["runningTime", "ms since the job was first RUNNING (whole job, across restarts); -1 before."],
    ["lastCheckpointDuration", "ms from trigger to completion of the latest completed checkpoint; -1 before any."],
    ["lastCheckpointSize", "Bytes of state in the latest completed checkpoint; -1 before any."],
    ["numberOfCompletedCheckpoints", "Checkpoints completed since the job started."],
    ["numberOfFailedCheckpoints", "Checkpoints that failed or were aborted."],
    ["numberOfInProgressCheckpoints", "Checkpoints triggered and not yet completed or aborted."],
    ["lastCheckpointRestoreTimestamp", "ms since the epoch of the latest restore from a checkpoint; -1 when never restored."],
  ]),
  ...def("taskmanager", [
    ["Status.Slots.Total", "Slots of the TaskExecutor."],
    ["Status.Slots.Free", "Slots not allocated."],
    ["Status.Memory.Heap.Used", "Bytes of V8 heap in use (main thread)."],
    ["Status.Memory.Heap.Committed", "Bytes of V8 heap reserved (main thread)."],
    ["Status.Memory.RSS", "Resident set size of the process, bytes (all threads)."],
    ["Status.CPU.Load", "CPU time of the process per wall time over the last report interval (1 = one core busy)."],
    ["Status.EventLoop.LagMs", "Longest event-loop delay of the main thread in the last report interval, ms."],
    ["Hardware.CpuCores", "CPU cores of the host."],
    ["Hardware.PhysicalMemory", "Physical memory of the host, bytes."],
  ]),
  ...def("task", [
    ["numRecordsIn", "Records the task received (counted per buffer)."],
    ["numRecordsOut", "Records the task emitted (counted per buffer sent)."],
    ["numBytesIn", "Encoded bytes received over links between threads and processes (0 on same-thread links)."],
    ["numBytesOut", "Encoded bytes sent over links between threads and processes (0 on same-thread links)."],
    ["numRecordsInPerSecond", "Records received per second."],
    ["numRecordsOutPerSecond", "Records emitted per second."],
    ["numBytesInPerSecond", "Bytes received per second."],
    ["numBytesOutPerSecond", "Bytes sent per second."],
    ["busyTimeMsPerSecond", "ms per second the task was neither idle nor back-pressured."],
    ["idleTimeMsPerSecond", "ms per second the task waited for input."],
    ["backPressuredTimeMsPerSecond", "ms per second the task waited for its output to become available."],
    ["accumulatedBusyTime", "ms the task was busy since it started."],
    ["accumulatedIdleTime", "ms the task waited for input since it started."],
    ["accumulatedBackPressuredTime", "ms the task waited for output since it started."],
    ["currentInputWatermark", "The task's input watermark (minimum over its channels), ms; absent before the first."],
    ["currentOutputWatermark", "The last watermark the task emitted, ms; absent before the first."],
    ["buffers.inPoolUsage", "Share of the input's credits held by received, unprocessed buffers (0..1)."],
    ["buffers.outPoolUsage", "Largest share of a subpartition's backlog bound in use (0..1)."],
    ["stateSize", "Bytes of state the task uploaded in its latest acknowledged checkpoint."],
  ]),
];

/** `Status.Memory.RSS` -> `Status_Memory_RSS`: a valid Prometheus name part (Flink's reporter does the same). */
export function prometheusName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_:]/g, "_");
}

/** The per-slot-thread event-loop lag metric of slot `i`. */
export function slotLagMetric(i: number): string {
  return `Status.EventLoop.Slot${i}.LagMs`;
}
