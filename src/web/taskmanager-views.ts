/** The REST bodies about TaskExecutors (Flink's TaskManagersInfo and TaskManagerDetailsInfo). */
import type { ClusterInfo, JobDetails, TaskExecutorView } from "../../schemas/dispatcher-api.js";
import type { MetricQuery } from "../metrics/types.js";

/** One TaskExecutor as `GET /taskmanagers` lists it. */
export function taskManagerEntry(t: TaskExecutorView, metrics: MetricQuery) {
  const m = metrics.taskExecutor(t.id);
  return {
    id: t.id,
    path: `eddy://${t.host}/${t.id}`,
    dataPort: -1,
    host: t.host,
    pid: t.pid,
    slotsNumber: t.slots,
    freeSlots: t.freeSlots,
    // Flink's field holds the time of the last heartbeat (ms since the epoch): here the last metric report's.
    timeSinceLastHeartbeat: metrics.lastReport(t.id) ?? 0,
    hardware: { cpuCores: m["Hardware.CpuCores"] ?? 0, physicalMemory: m["Hardware.PhysicalMemory"] ?? 0 },
  };
}

/** `GET /taskmanagers`. */
export function taskManagersBody(info: ClusterInfo, metrics: MetricQuery) {
  return { taskmanagers: (info.taskExecutors ?? []).map((t) => taskManagerEntry(t, metrics)) };
}

/** `GET /taskmanagers/:id`: the entry, its metrics, and each slot with the tasks it runs (from the running jobs' details). */
export function taskManagerDetailBody(t: TaskExecutorView, metrics: MetricQuery, running: readonly JobDetails[]) {
  const slots = Array.from({ length: t.slots }, (_, index) => ({
    index,
    jobId: null as string | null,
    tasks: [] as Array<{ jobId: string; vertexId: string; subtask: number; name: string }>,
  }));
  for (const d of running)
    for (const v of d.vertices)
      for (const s of v.subtasks) {
        if (s.taskExecutor !== t.id || s.slot === undefined) continue;
        const slot = slots[s.slot];
        if (!slot) continue;
        slot.jobId = d.id;
        slot.tasks.push({ jobId: d.id, vertexId: v.id, subtask: s.index, name: `${v.name} (${s.index + 1}/${v.parallelism})` });
      }
  return { ...taskManagerEntry(t, metrics), metrics: { ...metrics.taskExecutor(t.id) }, slots };
}
