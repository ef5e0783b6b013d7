import { connect, type NatsConnection } from "@nats-io/transport-node";
import { EddyError, ErrorCode } from "../core/errors.js";

export type { NatsConnection };

/** Connects to NATS with Eddy's defaults; failure to reach the server is ClusterUnreachable. */
export async function connectNats(url: string, name: string, opts: { timeoutMs?: number; reconnect?: boolean } = {}): Promise<NatsConnection> {
  try {
    return await connect({
      servers: url.split(","),
      name,
      timeout: opts.timeoutMs ?? 5_000,
      noAsyncTraces: true,
      reconnect: opts.reconnect ?? true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 10_000,
    });
  } catch (err) {
    throw new EddyError(ErrorCode.ClusterUnreachable, `cannot reach NATS at ${url}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Calls `fn` each time `nc` is re-established after losing its server. Messages published around
 * the loss may be gone (NATS core is at most once): protocols that wait for one use this to give up
 * what they wait for. Returns the function that stops listening.
 */
export function onReconnect(nc: NatsConnection, fn: () => void): () => void {
  const events = nc.status()[Symbol.asyncIterator]();
  let stopped = false;
  void (async () => {
    for (let r = await events.next(); !r.done && !stopped; r = await events.next()) if (r.value.type === "reconnect") fn();
  })().catch(() => undefined);
  return () => {
    stopped = true;
    void events.return?.();
  };
}
