/**
 * The soak's end phase: once the faults are over, the jobs are waited for while their committed
 * output still grows. A source subtask paces its events from its own (re)start, so every restart
 * pushes its job's end back by the time it lost; a fixed deadline after the last fault would call
 * a job still committing at its pace hung. Each job is judged on its committed output instead: hung
 * when its output is complete but the job has not ended {@link END_AFTER_OUTPUT_MS} later (its end
 * of input, final checkpoint or FINISHED reports), stalled when its output did not grow for
 * {@link OUTPUT_STALL_MS} before it was complete. The whole wait is bounded all the same.
 */
import type { SoakJob } from "./jobs.js";
import type { JobWatch } from "./monitor.js";

/** A job whose committed output is complete ends within this (end of input, final checkpoint, FINISHED). */
export const END_AFTER_OUTPUT_MS = 60_000;
/** A job whose committed output is not complete commits more within this (checkpoints every 300 ms). */
export const OUTPUT_STALL_MS = 60_000;

/** The end phase's limits (the defaults above; tests shorten them). */
export interface EndLimits {
  endAfterOutputMs: number;
  stallMs: number;
  pollMs: number;
}

const LIMITS: EndLimits = { endAfterOutputMs: END_AFTER_OUTPUT_MS, stallMs: OUTPUT_STALL_MS, pollMs: 2_000 };

/** How one job's end phase went. */
export interface JobEnd {
  /** Committed output lines last counted. */
  committed: number;
  /** When the committed output was first seen complete. */
  completeAt: number | undefined;
  /** When the committed output last grew. */
  grewAt: number;
  /** Why the job is judged hung or stalled; undefined when it ended or was still committing at the bound. */
  verdict: string | undefined;
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/**
 * Waits until every job ended, or every job not ended has a verdict, or `boundMs` passed; polls the
 * committed outputs every `pollMs`. Resolves with each job's end phase, in the order given.
 */
export async function awaitJobEnds(
  jobs: Array<{ job: Pick<SoakJob, "size" | "committedCount">; watch: Pick<JobWatch, "endedAt"> }>,
  boundMs: number,
  limits: EndLimits = LIMITS,
): Promise<JobEnd[]> {
  const start = Date.now();
  const ends: JobEnd[] = jobs.map(() => ({ committed: -1, completeAt: undefined, grewAt: start, verdict: undefined }));
  for (;;) {
    const now = Date.now();
    await Promise.all(
      jobs.map(async ({ job, watch }, i) => {
        const e = ends[i]!;
        if (watch.endedAt !== undefined || e.verdict) return;
        const n = await job.committedCount().catch(() => e.committed); // a NATS hiccup: counted again next time
        if (n > e.committed) [e.committed, e.grewAt] = [n, now];
        if (e.completeAt === undefined && n >= job.size.events) e.completeAt = now;
        if (e.completeAt !== undefined && now - e.completeAt > limits.endAfterOutputMs)
          e.verdict = `its committed output was complete (${n} lines) at ${time(e.completeAt)}, but it had not ended ${limits.endAfterOutputMs / 1000} s later`;
        else if (e.completeAt === undefined && now - e.grewAt > limits.stallMs)
          e.verdict = `its committed output stopped growing at ${e.committed} of ${job.size.events} events at ${time(e.grewAt)}`;
      }),
    );
    if (jobs.every(({ watch }, i) => watch.endedAt !== undefined || ends[i]!.verdict)) return ends;
    if (Date.now() - start > boundMs) {
      for (const [i, e] of ends.entries())
        if (jobs[i]!.watch.endedAt === undefined && !e.verdict)
          e.verdict = `still committing at the bound of ${Math.round(boundMs / 1000)} s after the last fault (${e.committed} of ${jobs[i]!.job.size.events} events)`;
      return ends;
    }
    await new Promise((r) => setTimeout(r, limits.pollMs));
  }
}
