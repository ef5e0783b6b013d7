/** Builders of metric reports (the wire shapes of src/metrics/report.ts) for store tests and benches. */
import { TASK_FIELDS, type TaskEntry, type TaskExecutorReport, type TaskField } from "../../src/metrics/index.js";

/** A task's value array from named values (the rest absent). */
export function taskValues(v: Partial<Record<TaskField, number>>): Array<number | null> {
  return TASK_FIELDS.map((f) => v[f] ?? null);
}

/** One task entry of vertex `vertexId` in job `jobId`. */
export function taskEntry(jobId: string, vertexId: string, subtask: number, v: Partial<Record<TaskField, number>>, extra: Partial<TaskEntry> = {}): TaskEntry {
  return {
    jobId,
    jobName: "job-name",
    vertexId,
    taskName: `task-${vertexId.slice(0, 4)}`,
    subtask,
    attempt: 0,
    attemptId: `${vertexId.slice(0, 16)}${String(subtask).padStart(16, "0")}`,
    values: taskValues(v),
    ...extra,
  };
}

/** A TaskExecutor report. */
export function teReport(teId: string, t: number, tasks: TaskEntry[], extra: Partial<TaskExecutorReport> = {}): TaskExecutorReport {
  return { teId, t, full: false, values: { "Status.Slots.Total": 2, "Status.Slots.Free": 1 }, tasks, ...extra };
}
