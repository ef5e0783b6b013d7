/**
 * The client side of the CLI: one NATS connection, the Dispatcher's gateway, and the mapping of
 * failures to exit codes (docs/cli.md: 1 refused, 3 cluster unreachable).
 */
import { EddyError, ErrorCode, toEddyError } from "../core/errors.js";
import { resolvePrefix } from "../core/config.js";
import { resolveNatsTarget } from "../security/context.js";
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

export type { WaitResultOptions } from "../client/job-result.js";

/** Prints the CLI's warning when contact with the Dispatcher is lost while waiting for a result. */
export function warnLostContact(io: Io): (code: string, graceMs: number) => void {
  return (code, graceMs) => io.err(`warning: lost contact with the Dispatcher (${code}); retrying for ${Math.round(graceMs / 1000)} s`);
}
