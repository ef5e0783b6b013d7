/**
 * The metric reports on NATS (MessagePack, one message per reporter per second), defined once:
 * TaskExecutors on `<prefix>.metrics.te.<teId>`, JobMasters on `<prefix>.metrics.job.<jobId>`, the
 * ResourceManager on `<prefix>.metrics.cluster`. The store parses every report through these
 * checkers; one that does not parse is dropped and counted.
 */
import { decode, encode } from "../codec/index.js";
import { s, type Check, type Infer } from "../schema/index.js";
import { TASK_FIELDS } from "./names.js";

const name = s.str({ max: 1_000 });
/** NATS subject tokens and Flink ids: no dots, spaces or wildcards. */
const token = s.str({ max: 200, pattern: /^[A-Za-z0-9_-]+$/ });
/** A value that may be absent (null on the wire: a watermark before the first). */
const maybeNum: Check<number | null> = (v, p) => (v === null ? null : s.num(v, p));

/** One task attempt in a TaskExecutor report. */
export const TaskEntry = s.object({
  jobId: token,
  jobName: name,
  vertexId: token,
  taskName: name,
  subtask: s.int({ min: 0, max: 1_000_000 }),
  attempt: s.int({ min: 0 }),
  attemptId: token,
  /** The values of names.ts TASK_FIELDS, in that order (null: absent). */
  values: s.array(maybeNum, 64),
  /** The attempt ended: these are its last values, it is not reported again. */
  final: s.optional(s.bool),
});
export type TaskEntry = Infer<typeof TaskEntry>;

/**
 * A TaskExecutor's report: its own metrics, and the tasks whose values changed since its last
 * report (`full`: every task it runs, sent every few seconds so a new store fills up).
 */
export const TaskExecutorReport = s.object({
  teId: token,
  /** When the values were taken, ms since the epoch (the TaskExecutor's clock: rates use their differences). */
  t: s.int({ min: 0 }),
  full: s.bool,
  host: s.optional(name),
  values: s.record(s.num, 1_000),
  tasks: s.array(TaskEntry, 100_000),
});
export type TaskExecutorReport = Infer<typeof TaskExecutorReport>;

/** A JobMaster's report of its job. */
export const JobReport = s.object({
  jobId: token,
  jobName: name,
  state: s.str({ max: 40 }),
  /** The job reached a globally terminal state: the store evicts it some minutes later. */
  terminal: s.bool,
  t: s.int({ min: 0 }),
  values: s.record(s.num, 1_000),
});
export type JobReport = Infer<typeof JobReport>;

/** The ResourceManager's report of the cluster. */
export const ClusterReport = s.object({
  t: s.int({ min: 0 }),
  values: s.record(s.num, 1_000),
});
export type ClusterReport = Infer<typeof ClusterReport>;

export const parseTaskExecutorReport = s.parser(TaskExecutorReport);
export const parseJobReport = s.parser(JobReport);
export const parseClusterReport = s.parser(ClusterReport);

/** Encodes a report (MessagePack). */
export function encodeReport(r: TaskExecutorReport | JobReport | ClusterReport): Uint8Array {
  return encode(r);
}

/** Decodes a report body; throws a ValidationError (MalformedRequest) for anything that is not one. */
export function decodeReport<T>(bytes: Uint8Array, parse: (v: unknown) => T): T {
  return parse(decode(bytes));
}

/** A task's values as the wire array: non-finite numbers (watermarks before the first, after the last) go as null. */
export function taskValuesToWire(values: ArrayLike<number>): Array<number | null> {
  const out: Array<number | null> = new Array(TASK_FIELDS.length);
  for (let i = 0; i < TASK_FIELDS.length; i++) {
    const v = values[i];
    out[i] = v !== undefined && Number.isFinite(v) ? v : null;
  }
  return out;
}
