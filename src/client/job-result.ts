import { EddyError, ErrorCode } from "../core/errors.js";
import { sleep } from "../core/time.js";
import type { JobResultReply } from "../../schemas/dispatcher-api.js";
import { isTransportError, type DispatcherClient } from "./dispatcher-client.js";

/** Options of {@link waitForJobResult}. */
export interface WaitResultOptions {
  /** Server-side long-poll duration per call, ms (default 20 000). */
  pollMs?: number;
  /** How long to keep retrying once contact was lost after the first answer, ms (default 60 000). */
  graceMs?: number;
  /** Overall deadline, ms (default: none, a job may run for long). */
  deadlineMs?: number;
  /** Told once per loss of contact, with the failure's code and how long it is retried. */
  onLostContact?: (code: string, graceMs: number) => void;
}

/**
 * Long-polls `requestJobResult` until the job is terminal. `JobResultNotReady` repeats the poll;
 * losing contact after a first answer (JobManager failover, NATS restart) is retried for
 * `graceMs` before giving up with the transport error.
 */
export async function waitForJobResult(client: DispatcherClient, jobId: string, opts: WaitResultOptions = {}): Promise<JobResultReply> {
  const pollMs = opts.pollMs ?? 20_000;
  const graceMs = opts.graceMs ?? 60_000;
  const deadline = opts.deadlineMs === undefined ? Infinity : Date.now() + opts.deadlineMs;
  let lostSince: number | undefined;
  for (;;) {
    try {
      return await client.ask<JobResultReply>("requestJobResult", { jobId, timeoutMs: pollMs }, pollMs + 5_000);
    } catch (err) {
      if (err instanceof EddyError && err.code === ErrorCode.JobResultNotReady) {
        lostSince = undefined;
      } else if (client.contacted && (isTransportError(err) || (err instanceof EddyError && err.code === ErrorCode.NotLeader))) {
        const now = Date.now();
        if (lostSince === undefined) {
          lostSince = now;
          opts.onLostContact?.((err as EddyError).code, graceMs);
        } else if (now - lostSince > graceMs) throw err;
        await sleep(1_000);
      } else throw err;
    }
    if (Date.now() > deadline) throw new EddyError(ErrorCode.RpcTimeout, `job ${jobId} did not reach a terminal state within ${opts.deadlineMs} ms`);
  }
}
