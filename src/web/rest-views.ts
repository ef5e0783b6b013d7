/**
 * The REST API's bodies (Flink's REST API v1 field names), built from what the Dispatcher answers
 * and what the process's MetricStore holds. Pure functions: no I/O, `now` passed in.
 */
import type { ClusterInfo, JobDetails, JobPlanView, JobTasksOverview, SubtaskView, VertexView } from "../../schemas/dispatcher-api.js";
import type { MetricQuery, MetricValues } from "../metrics/types.js";

const TERMINAL = new Set(["FINISHED", "CANCELED", "FAILED"]);

/** `GET /overview` (Flink's ClusterOverviewWithVersion). */
export function clusterOverview(info: ClusterInfo, jobs: readonly JobTasksOverview[], version: string) {
  const tes = info.taskExecutors ?? [];
  const count = (st: string) => jobs.filter((j) => j.state === st).length;
  return {
    taskmanagers: tes.length,
    "slots-total": tes.reduce((n, t) => n + t.slots, 0),
    "slots-available": tes.reduce((n, t) => n + t.freeSlots, 0),
    "jobs-running": jobs.filter((j) => !TERMINAL.has(j.state)).length,
    "jobs-finished": count("FINISHED"),
    "jobs-cancelled": count("CANCELED"),
    "jobs-failed": count("FAILED"),
    "eddy-version": version,
  };
}

/** Lowercased task counts as Flink's job overview names them. */
function lowerCounts(tasks: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(tasks)) out[k.toLowerCase()] = v;
  return out;
}

/** `GET /jobs/overview` (Flink's MultipleJobsDetails): newest first. */
export function jobsOverview(jobs: readonly JobTasksOverview[], now: number) {
  return {
    jobs: [...jobs]
      .sort((a, b) => b.startTime - a.startTime)
      .map((j) => ({
        jid: j.id,
        name: j.name,
        state: j.state,
        "start-time": j.startTime,
        "end-time": j.endTime ?? -1,
        duration: (j.endTime ?? now) - j.startTime,
        "last-modification": j.endTime ?? j.startTime,
        tasks: lowerCounts(j.tasks),
      })),
  };
}

/** Backpressure level of a ratio of time backpressured (Flink's thresholds). */
export function backpressureLevel(ratio: number): "ok" | "low" | "high" {
  return ratio <= 0.1 ? "ok" : ratio <= 0.5 ? "low" : "high";
}

const finiteOrNull = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);

/** A vertex's or subtask's metrics as Flink's job details show them, with Eddy's additions. */
export function ioMetrics(m: MetricValues) {
  return {
    "read-records": m.numRecordsIn ?? 0,
    "read-records-complete": true,
    "write-records": m.numRecordsOut ?? 0,
    "write-records-complete": true,
    "read-bytes": m.numBytesIn ?? 0,
    "read-bytes-complete": true,
    "write-bytes": m.numBytesOut ?? 0,
    "write-bytes-complete": true,
    "read-records-per-second": m.numRecordsInPerSecond ?? 0,
    "write-records-per-second": m.numRecordsOutPerSecond ?? 0,
    "backpressure-ratio": (m.backPressuredTimeMsPerSecond ?? 0) / 1000,
    "busy-ratio": (m.busyTimeMsPerSecond ?? 0) / 1000,
    "current-input-watermark": finiteOrNull(m.currentInputWatermark),
  };
}

/** Every execution state with its count among `subtasks`. */
function stateCounts(subtasks: readonly SubtaskView[], states: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const st of states) out[st] = 0;
  for (const s of subtasks) out[s.state] = (out[s.state] ?? 0) + 1;
  return out;
}

/** When a subtask started (its deployment) and ended (a terminal state), if it did. */
function subtaskTimes(s: SubtaskView, now: number) {
  const ts = s.timestamps;
  const start = ts.DEPLOYING ?? ts.INITIALIZING ?? ts.RUNNING ?? ts.SCHEDULED ?? ts.CREATED ?? -1;
  const end = ts.FINISHED ?? ts.CANCELED ?? ts.FAILED ?? -1;
  return { "start-time": start, "end-time": end, duration: start < 0 ? -1 : (end < 0 ? now : end) - start };
}

function vertexTimes(v: VertexView, now: number) {
  const starts = v.subtasks.map((s) => subtaskTimes(s, now));
  const started = starts.filter((t) => t["start-time"] >= 0).map((t) => t["start-time"]);
  const start = started.length ? Math.min(...started) : -1;
  const allEnded = starts.length > 0 && starts.every((t) => t["end-time"] >= 0);
  const end = allEnded ? Math.max(...starts.map((t) => t["end-time"])) : -1;
  return { "start-time": start, "end-time": end, duration: start < 0 ? -1 : (end < 0 ? now : end) - start };
}

/** `GET /jobs/:jid` (Flink's JobDetailsInfo) with the plan and Eddy's additions. */
export function jobDetailsBody(d: JobDetails, plan: JobPlanView, metrics: MetricQuery, states: readonly string[], now: number) {
  const jm = metrics.job(d.id);
  const statusCounts: Record<string, number> = {};
  for (const st of states) statusCounts[st] = 0;
  const vertices = d.vertices.map((v) => {
    const m = ioMetrics(metrics.vertex(d.id, v.id));
    statusCounts[v.state] = (statusCounts[v.state] ?? 0) + 1;
    return {
      id: v.id,
      name: v.name,
      maxParallelism: v.maxParallelism,
      parallelism: v.parallelism,
      status: v.state,
      ...vertexTimes(v, now),
      tasks: stateCounts(v.subtasks, states),
      metrics: m,
      "backpressure-level": backpressureLevel(m["backpressure-ratio"]),
    };
  });
  return {
    jid: d.id,
    name: d.name,
    isStoppable: false,
    state: d.state,
    "start-time": d.startTime,
    "end-time": d.endTime ?? -1,
    duration: (d.endTime ?? now) - d.startTime,
    maxParallelism: -1,
    now,
    timestamps: { ...d.timestamps },
    vertices,
    "status-counts": statusCounts,
    plan: { jid: plan.jid, name: plan.name, type: "STREAMING", nodes: plan.nodes },
    checkpoints: {
      completed: d.checkpoints.completed,
      failed: d.checkpoints.failed,
      in_progress: jm.numberOfInProgressCheckpoints ?? 0,
    },
    numRestarts: jm.numRestarts ?? 0,
    failure: d.failure,
  };
}

/** Where each TaskExecutor runs, by id. */
export function hostsOf(info: ClusterInfo): Map<string, string> {
  return new Map((info.taskExecutors ?? []).map((t) => [t.id, t.host]));
}

/** `GET /jobs/:jid/vertices/:vid`: the vertex's subtasks `offset..offset+limit` with their metrics. */
export function vertexDetailBody(
  d: JobDetails,
  v: VertexView,
  metrics: MetricQuery,
  hosts: Map<string, string>,
  page: { offset: number; limit: number },
  now: number,
) {
  const bySubtask = new Map(metrics.subtasks(d.id, v.id).map((s) => [s.subtask, s]));
  return {
    id: v.id,
    name: v.name,
    parallelism: v.parallelism,
    maxParallelism: v.maxParallelism,
    now,
    total: v.subtasks.length,
    offset: page.offset,
    limit: page.limit,
    subtasks: v.subtasks.slice(page.offset, page.offset + page.limit).map((s) => {
      const m = bySubtask.get(s.index);
      return {
        subtask: s.index,
        status: s.state,
        attempt: s.attempt,
        "taskmanager-id": s.taskExecutor,
        host: s.taskExecutor ? (hosts.get(s.taskExecutor) ?? null) : null,
        ...subtaskTimes(s, now),
        metrics: ioMetrics(m && m.attempt === s.attempt ? m.values : {}),
      };
    }),
  };
}

/** `GET /jobs/:jid/vertices/:vid/backpressure` (Flink's JobVertexBackPressureInfo, from the busy/idle/backpressured times). */
export function backpressureBody(d: JobDetails, v: VertexView, metrics: MetricQuery, now: number) {
  const bySubtask = new Map(metrics.subtasks(d.id, v.id).map((s) => [s.subtask, s.values]));
  const subtasks = v.subtasks.map((s) => {
    const m = bySubtask.get(s.index) ?? {};
    const ratio = (m.backPressuredTimeMsPerSecond ?? 0) / 1000;
    return {
      subtask: s.index,
      "attempt-number": s.attempt,
      "backpressure-level": backpressureLevel(ratio),
      ratio,
      busyRatio: (m.busyTimeMsPerSecond ?? 0) / 1000,
      idleRatio: (m.idleTimeMsPerSecond ?? 0) / 1000,
    };
  });
  const max = subtasks.reduce((x, s) => Math.max(x, s.ratio), 0);
  return { status: "ok", "backpressure-level": backpressureLevel(max), "end-timestamp": now, subtasks };
}

/** `GET /jobs/:jid/vertices/:vid/watermarks`: each subtask's input watermark (Flink's metric list). */
export function watermarksBody(d: JobDetails, v: VertexView, metrics: MetricQuery) {
  const out: Array<{ id: string; value: string }> = [];
  for (const s of metrics.subtasks(d.id, v.id)) {
    const w = s.values.currentInputWatermark;
    if (w !== undefined && Number.isFinite(w)) out.push({ id: `${s.subtask}.currentInputWatermark`, value: String(w) });
  }
  return out.sort((a, b) => Number.parseInt(a.id, 10) - Number.parseInt(b.id, 10));
}

/** `GET /jobs/:jid/throughput`: each vertex's records in/out per second over the last minutes. */
export function throughputBody(d: JobDetails, metrics: MetricQuery) {
  const vertices: Record<string, Array<{ t: number; in: number; out: number }>> = {};
  for (const v of d.vertices) vertices[v.id] = metrics.throughput(d.id, v.id).map((p) => ({ t: p.t, in: p.recordsInPerSecond, out: p.recordsOutPerSecond }));
  return { vertices };
}

/** A metric list answer (`?get=a,b`, Flink's string values); without names, the names available. */
export function metricList(values: MetricValues, get: readonly string[] | undefined): Array<{ id: string; value?: string }> {
  if (!get)
    return Object.keys(values)
      .sort()
      .map((id) => ({ id }));
  const out: Array<{ id: string; value: string }> = [];
  for (const id of get) {
    const v = values[id];
    if (v !== undefined) out.push({ id, value: String(v) });
  }
  return out;
}
