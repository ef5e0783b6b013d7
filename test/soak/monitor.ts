/**
 * Watches the soak's jobs through the Dispatcher: `requestJob` for each job every ~100 ms. From what
 * it sees it counts restarts and checkpoints (carried across JobManager failovers, whose new leader
 * counts from zero) and measures, per fault, the time from the fault to all tasks RUNNING again.
 */
import type { Gateway } from "../../src/rpc/gateway.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";

const POLL_MS = 100;
/**
 * A running job whose checkpoints neither complete nor fail for this long is stalled. A checkpoint
 * that is never ended (a trigger or acknowledgement lost unnoticed) holds the next ones back until its
 * timeout, 10 min in the soak's jobs, so it shows far beyond this. What legitimately takes up to about
 * 30 s stays below it: a state upload retried through a stream's leader election (30 s, then the task
 * declines), the completion's record read back or written through one (30 s each), and triggers that
 * fail while the checkpoints bucket cannot allocate an id (not counted as failed checkpoints).
 */
export const CHECKPOINT_STALL_MS = 60_000;
const TERMINAL = new Set(["FINISHED", "FAILED", "CANCELED"]);

/** What was seen of one job. */
export interface JobWatch {
  jobId: string;
  name: string;
  last: JobDetails | undefined;
  /** Restarts seen: new RUNNING times of the first subtask of the first vertex. */
  restarts: number;
  checkpointsCompleted: number;
  checkpointsFailed: number;
  /** Bytes of the latest completed checkpoint seen, and the largest. */
  latestBytes: number;
  maxBytes: number;
  submittedAt: number;
  endedAt: number | undefined;
  /** Periods in which the job was all RUNNING but no checkpoint completed or failed for CHECKPOINT_STALL_MS. */
  checkpointStalls: Array<{ from: number; to: number | undefined; latest: number | undefined }>;
}

/** One fault's recovery: ms from the fault to every job all RUNNING again (0: no job was disturbed). */
export interface Recovery {
  ms: number;
  /** True when some job restarted (or could not be asked) after the fault. */
  disturbed: boolean;
}

interface Waiter {
  since: number;
  disturbed: Set<string>;
  settleUntil: number;
  deadline: number;
  resolve: (r: Recovery | undefined) => void;
}

/**
 * True when the job runs and every subtask is RUNNING or FINISHED: a subtask whose input ended, or one
 * restored as finished after a fault near the end of its input, has nothing left to recover.
 */
function allRunning(d: JobDetails): boolean {
  return d.state === "RUNNING" && d.vertices.every((v) => v.subtasks.every((s) => s.state === "RUNNING" || s.state === "FINISHED"));
}

/** The latest time any subtask's current attempt entered RUNNING. */
function lastRunningSince(d: JobDetails): number {
  let t = 0;
  for (const v of d.vertices) for (const s of v.subtasks) t = Math.max(t, s.timestamps.RUNNING ?? 0);
  return t;
}

export class JobMonitor {
  readonly jobs: JobWatch[] = [];
  private readonly base = new Map<
    string,
    { completed: number; failed: number; seenCompleted: number; seenFailed: number; firstRunning: number; progressAt: number; progress: number }
  >();
  private readonly waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Requests that failed (no leader, timeouts), for the report. */
  failedPolls = 0;

  constructor(private readonly dispatcher: Gateway) {}

  watch(jobId: string, name: string): void {
    this.jobs.push({
      jobId,
      name,
      last: undefined,
      restarts: 0,
      checkpointsCompleted: 0,
      checkpointsFailed: 0,
      latestBytes: 0,
      maxBytes: 0,
      submittedAt: Date.now(),
      endedAt: undefined,
      checkpointStalls: [],
    });
    this.base.set(jobId, { completed: 0, failed: 0, seenCompleted: 0, seenFailed: 0, firstRunning: 0, progressAt: Date.now(), progress: -1 });
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const w of this.waiters) w.resolve(undefined);
    this.waiters.clear();
  }

  /** Each job as last seen, on one line: state, subtask states with attempt and TaskExecutor, checkpoints. */
  describe(): string {
    return this.jobs
      .map((j) => {
        const d = j.last;
        if (!d) return `${j.jobId}: never seen`;
        const vs = d.vertices.map((v) => `${v.id}[${v.subtasks.map((s) => `${s.state}#${s.attempt}@${s.taskExecutor ?? "-"}`).join(" ")}]`);
        return `${j.jobId}: ${d.state} ${vs.join(" ")} checkpoints ${d.checkpoints.completed}/${d.checkpoints.failed} latest ${d.checkpoints.latest?.id ?? "-"}`;
      })
      .join(" | ");
  }

  /** True once every job is terminal. */
  get allEnded(): boolean {
    return this.jobs.every((j) => j.endedAt !== undefined);
  }

  /**
   * Resolves with the fault's recovery: once every job disturbed after `since` (restarted, or not
   * answering) is all RUNNING again, or, when none was disturbed within `settleMs`, with no
   * disturbance. Resolves undefined when that takes more than `timeoutMs` (a stall) or on stop().
   */
  recovery(since: number, settleMs: number, timeoutMs: number): Promise<Recovery | undefined> {
    return new Promise((resolve) => {
      this.waiters.add({ since, disturbed: new Set(), settleUntil: since + settleMs, deadline: since + timeoutMs, resolve });
    });
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const now = Date.now();
      const seen = await Promise.all(
        this.jobs.map(async (j) => {
          if (j.endedAt !== undefined) return { j, d: j.last };
          const d = await this.dispatcher.ask<JobDetails>("requestJob", { jobId: j.jobId }, { timeoutMs: 1_000 }).catch(() => undefined);
          if (!d) this.failedPolls++;
          else this.record(j, d);
          return { j, d };
        }),
      );
      for (const w of [...this.waiters]) {
        let recovered = true;
        for (const { j, d } of seen) {
          if (j.endedAt !== undefined) continue;
          const restarted = !d || !allRunning(d) || lastRunningSince(d) > w.since;
          if (restarted) w.disturbed.add(j.jobId);
          if (w.disturbed.has(j.jobId) && !(d && allRunning(d))) recovered = false;
        }
        const settled = w.disturbed.size > 0 || now >= w.settleUntil;
        if (recovered && settled) {
          this.waiters.delete(w);
          w.resolve({ ms: w.disturbed.size ? now - w.since : 0, disturbed: w.disturbed.size > 0 });
        } else if (now > w.deadline) {
          this.waiters.delete(w);
          w.resolve(undefined);
        }
      }
    } finally {
      this.polling = false;
    }
  }

  private record(j: JobWatch, d: JobDetails): void {
    const b = this.base.get(j.jobId)!;
    // A new leader counts checkpoints from zero: what the former one counted is kept.
    if (d.checkpoints.completed < b.seenCompleted || d.checkpoints.failed < b.seenFailed) {
      b.completed += b.seenCompleted;
      b.failed += b.seenFailed;
    }
    b.seenCompleted = d.checkpoints.completed;
    b.seenFailed = d.checkpoints.failed;
    j.checkpointsCompleted = b.completed + d.checkpoints.completed;
    j.checkpointsFailed = b.failed + d.checkpoints.failed;
    if (d.checkpoints.latest) {
      j.latestBytes = d.checkpoints.latest.bytes;
      j.maxBytes = Math.max(j.maxBytes, d.checkpoints.latest.bytes);
    }
    const first = d.vertices[0]?.subtasks[0];
    const running = first?.state === "RUNNING" ? (first.timestamps.RUNNING ?? 0) : 0;
    if (running && running !== b.firstRunning) {
      if (b.firstRunning) j.restarts++;
      b.firstRunning = running;
    }
    j.last = d;
    if (TERMINAL.has(d.state)) j.endedAt = d.endTime ?? Date.now();
    this.watchCheckpoints(j, d, b);
  }

  /** Notes the start and end of periods without checkpoint progress while all tasks run. */
  private watchCheckpoints(j: JobWatch, d: JobDetails, b: { progressAt: number; progress: number }): void {
    const now = Date.now();
    const progress = j.checkpointsCompleted + j.checkpointsFailed;
    const open = j.checkpointStalls[j.checkpointStalls.length - 1];
    if (progress !== b.progress || !allRunning(d)) {
      b.progress = progress;
      b.progressAt = now;
      if (open && open.to === undefined) open.to = now;
    } else if (now - b.progressAt > CHECKPOINT_STALL_MS && !(open && open.to === undefined)) {
      j.checkpointStalls.push({ from: b.progressAt, to: undefined, latest: d.checkpoints.latest?.id });
    }
  }
}
