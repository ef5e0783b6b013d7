/**
 * A job's exception history (Flink's FLIP-241 ExceptionHistory): every task failure and global
 * failure the scheduler handled, newest first, bounded. Kept with the ExecutionGraph, which lives as
 * long as the JobMaster; the Dispatcher archives the view with the finished job.
 */
import type { FailureInfo } from "../core/errors.js";
import type { ExceptionEntry, ExceptionHistoryView } from "../../schemas/dispatcher-api.js";
import type { Execution } from "./execution.js";

/** Entries kept per job (Flink's web.exception-history-size default is 16; a UI pages fewer). */
export const EXCEPTION_HISTORY_SIZE = 100;

export class ExceptionHistory {
  /** Newest last (appended); the view reverses it. */
  private readonly entries: ExceptionEntry[] = [];
  private dropped = false;
  /** The host of a TaskExecutor, when the JobMaster knows it (a lost one's is remembered). */
  hostOf: (taskExecutorId: string) => string | undefined = () => undefined;

  constructor(private readonly capacity = EXCEPTION_HISTORY_SIZE) {}

  /** A task attempt failed (its own failure, or its TaskExecutor's loss). */
  recordTaskFailure(e: Execution, cause: FailureInfo, at = Date.now()): void {
    const ejv = e.vertex.jobVertex;
    const te = e.slot?.taskExecutorId ?? null;
    const host = te === null ? undefined : this.hostOf(te);
    this.add({
      ...fromCause(cause, at),
      taskName: `${ejv.name} (${e.vertex.subtaskIndex + 1}/${ejv.parallelism})`,
      location: te === null ? null : host ? `${te} (${host})` : te,
      taskManagerId: te,
    });
  }

  /** A failure of the whole job (too many failed checkpoints...). */
  recordGlobalFailure(cause: FailureInfo, at = Date.now()): void {
    this.add({ ...fromCause(cause, at), taskName: null, location: null, taskManagerId: null });
  }

  private add(entry: ExceptionEntry): void {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) {
      this.entries.shift();
      this.dropped = true;
    }
  }

  /** The entries, newest first (copies). */
  view(): ExceptionHistoryView {
    const entries: ExceptionEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0; i--) entries.push({ ...this.entries[i]! });
    return { entries, truncated: this.dropped };
  }
}

function fromCause(cause: FailureInfo, at: number): Pick<ExceptionEntry, "exceptionName" | "stacktrace" | "timestamp" | "code"> {
  const head = `${cause.name}: ${cause.message}`;
  const stack = cause.stack?.includes(cause.message) ? cause.stack : cause.stack ? `${head}\n${cause.stack}` : head;
  return { exceptionName: cause.name, stacktrace: stack, timestamp: at, code: cause.code };
}
