/**
 * The task part of a TaskExecutor's report: the latest values of each running attempt as its slot
 * thread posted them, of which a report carries only those that changed since the last report
 * (a delta) — or all of them in a full report — plus, once, the last values of attempts that ended.
 */
import type { TaskEntry } from "./report.js";

/** Values not refreshed for this long belong to a slot thread that is gone. */
export const TASK_SILENCE_MS = 5_000;

interface Latest {
  entry: TaskEntry;
  receivedAt: number;
}

/** Tracks what was reported of each attempt. */
export class TaskDelta {
  private readonly latest = new Map<string, Latest>();
  /** The values last reported per attempt. */
  private readonly sent = new Map<string, ReadonlyArray<number | null>>();
  private finals: TaskEntry[] = [];

  /** A slot thread's values (an entry with `final` is the attempt's last). */
  update(entries: readonly TaskEntry[], now: number): void {
    for (const e of entries) {
      if (e.final) {
        this.latest.delete(e.attemptId);
        this.finals.push(e);
      } else this.latest.set(e.attemptId, { entry: e, receivedAt: now });
    }
  }

  /** The entries of the next report: ended attempts, then the running ones that changed (`full`: all). */
  take(full: boolean, now: number): TaskEntry[] {
    const out = this.finals;
    this.finals = [];
    for (const e of out) this.sent.delete(e.attemptId);
    for (const [attemptId, l] of this.latest) {
      if (now - l.receivedAt > TASK_SILENCE_MS) {
        this.latest.delete(attemptId);
        this.sent.delete(attemptId);
        continue;
      }
      if (!full && sameValues(this.sent.get(attemptId), l.entry.values)) continue;
      this.sent.set(attemptId, l.entry.values);
      out.push(l.entry);
    }
    return out;
  }

  /** Attempts being tracked. */
  get size(): number {
    return this.latest.size;
  }
}

function sameValues(a: ReadonlyArray<number | null> | undefined, b: ReadonlyArray<number | null>): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
