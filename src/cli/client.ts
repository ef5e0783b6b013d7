/**
 * The client side of the CLI: one NATS connection, the Dispatcher's gateway, and the mapping of
 * failures to exit codes (docs/cli.md: 1 refused, 3 cluster unreachable).
 */
import { EddyError, ErrorCode, toEddyError } from "../core/errors.js";
import { resolvePrefix } from "../core/config.js";
import { resolveNatsTarget } from "../security/context.js";
import { sleep } from "../core/time.js";
import { Exit, type Io } from "./io.js";

export { CLIENT_TIMEOUT_MS, DispatcherClient, isTransportError } from "../client/dispatcher-client.js";
import { DispatcherClient, isTransportError } from "../client/dispatcher-client.js";
import { EddyClient } from "../client/eddy-client.js";

/** The exit code for a failure, per docs/cli.md. A NATS URL that is not a URL is a usage error. */
export function exitCodeOf(err: unknown, contacted: boolean): number {
  if (!(err instanceof EddyError)) return Exit.Refused;
  if (err.code === ErrorCode.ClusterUnreachable && (err.cause as { code?: unknown } | undefined)?.code === "ERR_INVALID_URL") return Exit.Usage;
  if (err.code === ErrorCode.ClusterUnreachable || err.code === ErrorCode.NoResponders || err.code === ErrorCode.NotAuthenticated) return Exit.Unreachable;
  if (err.code === ErrorCode.RpcTimeout && !contacted && isTransportError(err)) return Exit.Unreachable;
  return Exit.Refused;
}

/** Prints `error <code>: <message>` on stderr and returns the exit code. */
export function reportError(io: Io, err: unknown, contacted: boolean): number {
  const e = toEddyError(err);
  const msg = e.message;

  io.err(`error ${e.code}: ${msg}`);
  return exitCodeOf(err, contacted);
}

/** The flags that say where a command connects and as whom. */
export interface ConnectionFlags {
  nats?: string;
  context?: string;
}

/** `--nats` and `--context` of a parsed command line. */
export function connectionFlags(flags: Record<string, unknown>): ConnectionFlags {
  return { nats: flags.nats as string | undefined, context: flags.context as string | undefined };
}

/**
 * Runs `fn` with a Dispatcher client for `--nats`/`--context` (else EDDY_CONTEXT, EDDY_NATS_URL) and
 * EDDY_PREFIX; failures become an exit code and an `error <code>: <message>` line (an unreadable
 * context file is a usage error). The connection is always closed.
 */
export async function withDispatcher(io: Io, flags: ConnectionFlags, fn: (c: EddyClient) => Promise<number>): Promise<number> {
  let client: DispatcherClient | undefined;
  let target: ReturnType<typeof resolveNatsTarget>;
  try {
    target = resolveNatsTarget(flags);
  } catch (err) {
    io.err(`error ${toEddyError(err).code}: ${(err as Error).message}`);
    return Exit.Usage;
  }
  try {
    const prefix = resolvePrefix();
    client = await DispatcherClient.connect(target.url, prefix, "eddy-cli", target.auth);
    return await fn(EddyClient.over(client, prefix));
  } catch (err) {
    return reportError(io, err, client?.contacted ?? false);
  } finally {
    await client?.close();
  }
}

/** The terminal result of a job (`requestJobResult`). */
export type { JobResultReply as JobResult } from "../../schemas/dispatcher-api.js";
import type { JobResultReply as JobResult } from "../../schemas/dispatcher-api.js";

/** Options of {@link waitForJobResult}. */
export interface WaitResultOptions {
  /** Server-side long-poll duration per call, ms (default 20 000). */
  pollMs?: number;
  /** How long to keep retrying once contact was lost after the first answer, ms (default 60 000). */
  graceMs?: number;
  /** Overall deadline, ms (default: none, a job may run for long). */
  deadlineMs?: number;
}

/**
 * Long-polls `requestJobResult` until the job is terminal. `JobResultNotReady` repeats the poll;
 * losing contact after a first answer (JobManager failover, NATS restart) is retried for
 * `graceMs` before giving up with the transport error.
 */
export async function waitForJobResult(client: DispatcherClient, jobId: string, io: Io, opts: WaitResultOptions = {}): Promise<JobResult> {
  const pollMs = opts.pollMs ?? 20_000;
  const graceMs = opts.graceMs ?? 60_000;
  const deadline = opts.deadlineMs === undefined ? Infinity : Date.now() + opts.deadlineMs;
  let lostSince: number | undefined;
  for (;;) {
    try {
      const r = await client.ask<JobResult>("requestJobResult", { jobId, timeoutMs: pollMs }, pollMs + 5_000);
      return r;
    } catch (err) {
      if (err instanceof EddyError && err.code === ErrorCode.JobResultNotReady) {
        lostSince = undefined;
      } else if (client.contacted && (isTransportError(err) || (err instanceof EddyError && err.code === ErrorCode.NotLeader))) {
        const now = Date.now();
        if (lostSince === undefined) {
          lostSince = now;
          io.err(`warning: lost contact with the Dispatcher (${(err as EddyError).code}); retrying for ${Math.round(graceMs / 1000)} s`);
        } else if (now - lostSince > graceMs) throw err;
        await sleep(1_000);
      } else throw err;
    }
    if (Date.now() > deadline) throw new EddyError(ErrorCode.RpcTimeout, `job ${jobId} did not reach a terminal state within ${opts.deadlineMs} ms`);
  }
}
