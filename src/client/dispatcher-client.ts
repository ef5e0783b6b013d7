/**
 * One NATS connection to a cluster's Dispatcher that remembers whether it ever got an answer, and
 * what counts as a failure of the transport rather than an answer.
 */
import { EddyError, ErrorCode } from "../core/errors.js";
import { Gateway } from "../rpc/gateway.js";
import { connectNats, type NatsAuth, type NatsConnection } from "../rpc/nats.js";
import { Subjects } from "../rpc/subjects.js";

/** Default timeout of one Dispatcher call, ms. */
export const CLIENT_TIMEOUT_MS = 15_000;

/**
 * True for a failure of the transport rather than an answer from the cluster: no connection, no
 * responder, or a timeout raised locally. (Errors rebuilt from a reply never carry a `cause`; the
 * gateway's own timeouts always carry the NATS error as cause.)
 */
export function isTransportError(err: unknown): boolean {
  if (!(err instanceof EddyError)) return false;
  if (err.code === ErrorCode.ClusterUnreachable || err.code === ErrorCode.NoResponders) return true;
  return err.code === ErrorCode.RpcTimeout && err.cause !== undefined;
}

/** A connection to the cluster's Dispatcher that remembers whether it ever got an answer. */
export class DispatcherClient {
  private answered = false;
  private constructor(
    readonly nc: NatsConnection,
    private readonly gw: Gateway,
    readonly url: string,
  ) {}

  /** Connects to NATS at `url` (ClusterUnreachable when it cannot) and addresses the Dispatcher under `prefix`. */
  static async connect(url: string, prefix: string, name = "eddy-cli", auth: NatsAuth = {}): Promise<DispatcherClient> {
    const nc = await connectNats(url, name, { timeoutMs: 5_000, auth });
    return new DispatcherClient(nc, new Gateway(nc, new Subjects(prefix).dispatcher), url);
  }

  /** True once any call got a reply (even a refusal). */
  get contacted(): boolean {
    return this.answered;
  }

  /** Calls a Dispatcher method; refusals are thrown as EddyErrors with their code. */
  async ask<R>(method: string, body: unknown, timeoutMs = CLIENT_TIMEOUT_MS): Promise<R> {
    try {
      const r = await this.gw.ask<R>(method, body, { timeoutMs });
      this.answered = true;
      return r;
    } catch (err) {
      if (!isTransportError(err)) this.answered = true;
      throw err;
    }
  }

  /** Closes the connection (never throws). */
  async close(): Promise<void> {
    await this.nc.close().catch(() => undefined); // a connection that fails to close is gone all the same
  }
}
