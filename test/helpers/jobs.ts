/** Helpers to drive jobs through the Dispatcher's API in tests and benchmarks; every wait is bounded. */
import { EddyError, ErrorCode } from "../../src/core/errors.js";
import { waitFor } from "../../src/core/time.js";
import type { Gateway } from "../../src/rpc/gateway.js";
import type { JobDetails, JobResultReply } from "../../schemas/dispatcher-api.js";

/** Codes a client sees while the leading JobManager changes (no leader serving yet, or a former one). */
const FAILOVER_CODES: readonly string[] = [ErrorCode.NoResponders, ErrorCode.RpcTimeout, ErrorCode.NotLeader, ErrorCode.Shutdown, ErrorCode.ClusterUnreachable];

/**
 * The answer to `requestJobResult`, waiting up to `timeoutMs` in long polls of at most 5 s. With
 * `acrossFailover`, a leader change on the way (no responders, timeouts, NotLeader) is waited out.
 */
export async function awaitJobResult(dispatcher: Gateway, jobId: string, timeoutMs = 60_000, opts: { acrossFailover?: boolean } = {}): Promise<JobResultReply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`job ${jobId} reached no terminal state within ${timeoutMs} ms`);
    const wait = Math.max(1, Math.min(5_000, left));
    try {
      return await dispatcher.ask<JobResultReply>("requestJobResult", { jobId, timeoutMs: wait }, { timeoutMs: wait + 3_000 });
    } catch (err) {
      if (err instanceof EddyError && err.code === ErrorCode.JobResultNotReady) continue;
      if (opts.acrossFailover && err instanceof EddyError && FAILOVER_CODES.includes(err.code)) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      throw err;
    }
  }
}

/** Submits `spec` and waits for its terminal result. */
export async function runToCompletion(dispatcher: Gateway, spec: unknown, timeoutMs = 60_000): Promise<JobResultReply> {
  const { jobId } = await dispatcher.ask<{ jobId: string }>("submitJob", spec);
  return awaitJobResult(dispatcher, jobId, timeoutMs);
}

/** Polls `requestJob` until `accept` holds for the details; returns them. */
export function waitForJob(
  dispatcher: Gateway,
  jobId: string,
  accept: (d: JobDetails) => boolean,
  timeoutMs = 15_000,
  what = "condition",
): Promise<JobDetails> {
  return waitFor(
    async () => {
      const d = await dispatcher.ask<JobDetails>("requestJob", { jobId }, { timeoutMs: 2_000 }).catch(() => undefined); // not answered yet: waitFor asks again
      return d && accept(d) ? d : undefined;
    },
    timeoutMs,
    `job ${jobId}: ${what}`,
    20,
  );
}

/** True when the job and every subtask are RUNNING. */
export const allRunning = (d: JobDetails): boolean => d.state === "RUNNING" && d.vertices.every((v) => v.subtasks.every((s) => s.state === "RUNNING"));

/** Polls `requestJob` until the job and every subtask are RUNNING. */
export function waitUntilRunning(dispatcher: Gateway, jobId: string, timeoutMs = 15_000): Promise<JobDetails> {
  return waitForJob(dispatcher, jobId, allRunning, timeoutMs, "RUNNING");
}
