/**
 * Plain NATS requests to the micro discovery subjects (`$SRV.PING`, `$SRV.INFO.<name>`...), as
 * `nats micro ls/info/stats` send them: every service instance that matches answers, so each call
 * collects replies for a fixed window; conditions that hold "eventually" are polled with a timeout.
 */
import { Empty, NoRespondersError, RequestError } from "@nats-io/transport-node";
import type { NatsConnection } from "../../src/rpc/nats.js";
import { waitFor } from "../../src/core/time.js";
import type { InfoResponse, PingResponse, StatsResponse } from "../../src/rpc/micro/index.js";

/** Every reply to `subject` within `windowMs` (none when nobody answers). */
export async function discover<T = PingResponse>(nc: NatsConnection, subject: string, windowMs = 1_000): Promise<T[]> {
  const out: T[] = [];
  try {
    for await (const m of await nc.requestMany(subject, Empty, { strategy: "timer", maxWait: windowMs })) out.push(m.json<T>());
  } catch (err) {
    if (!(err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders()))) throw err;
  }
  return out;
}

/** Asks `subject` until `accept` holds for the replies; returns them. */
export function discoverUntil<T = PingResponse>(
  nc: NatsConnection,
  subject: string,
  accept: (replies: T[]) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T[]> {
  let last: T[] = [];
  return waitFor(
    async () => {
      last = await discover<T>(nc, subject, 500);
      return accept(last) ? last : undefined;
    },
    timeoutMs,
    what,
    50,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last replies: ${JSON.stringify(last)}`, { cause: err });
  });
}

/** The single reply of one service instance to `$SRV.<verb>.<name>.<id>`. */
export async function askInstance<T extends PingResponse | InfoResponse | StatsResponse>(
  nc: NatsConnection,
  verb: "PING" | "INFO" | "STATS",
  name: string,
  id: string,
): Promise<T> {
  return (await nc.request(`$SRV.${verb}.${name}.${id}`, Empty, { timeout: 5_000 })).json<T>();
}
