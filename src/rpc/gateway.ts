import type { NatsConnection } from "@nats-io/transport-node";
import { headers as natsHeaders, PermissionViolationError, RequestError, TimeoutError as NatsTimeoutError } from "@nats-io/transport-node";
import { decode, encode } from "../codec/codec.js";
import { EddyError, ErrorCode, TimeoutError, errorFromWire } from "../core/errors.js";
import { Timeouts } from "../core/config.js";
import { Header } from "./headers.js";

/** Options of one call. */
export interface CallOptions {
  /** Per-call timeout, ms (default {@link Timeouts.rpc}). */
  timeoutMs?: number;
  /** Fencing token to carry. */
  token?: string;
  /** Sender id to carry. */
  sender?: string;
}

/**
 * The client side of an actor: request/reply with msgpack bodies, per-call timeouts, and remote
 * errors rebuilt as their own class. `tell` is one-way.
 */
export class Gateway {
  constructor(
    readonly nc: NatsConnection,
    readonly address: string,
    private readonly defaults: CallOptions = {},
  ) {}

  /** The same gateway with other default options (a new token, say). */
  with(opts: CallOptions): Gateway {
    return new Gateway(this.nc, this.address, { ...this.defaults, ...opts });
  }

  /** Asks `method` and waits for the reply; a refusal is thrown as its typed error. */
  async ask<R = unknown>(method: string, body: unknown = {}, opts: CallOptions = {}): Promise<R> {
    const o = { ...this.defaults, ...opts };
    const timeout = o.timeoutMs ?? Timeouts.rpc;
    const subject = `${this.address}.${method}`;
    let msg: Awaited<ReturnType<NatsConnection["request"]>>;
    try {
      msg = await this.nc.request(subject, encode(body), { timeout, headers: makeHeaders(o) });
    } catch (err) {
      throw natsRequestError(err, subject, timeout);
    }
    const value = decode(msg.data);
    if (msg.headers?.get(Header.Error)) throw errorFromWire((value as { error?: unknown } | null)?.error);
    return value as R;
  }

  /** Sends `method` one-way (no reply, no delivery guarantee). */
  tell(method: string, body: unknown = {}, opts: CallOptions = {}): void {
    const o = { ...this.defaults, ...opts };
    this.nc.publish(`${this.address}.${method}`, encode(body), { headers: makeHeaders(o) });
  }
}

function makeHeaders(o: CallOptions) {
  const h = natsHeaders();
  if (o.token) h.set(Header.Fence, o.token);
  if (o.sender) h.set(Header.Sender, o.sender);
  return h;
}

/** Maps the NATS client's request failures to Eddy errors. */
export function natsRequestError(err: unknown, subject: string, timeout: number): EddyError {
  if (err instanceof RequestError && err.isNoResponders())
    return new EddyError(ErrorCode.NoResponders, `nobody serves ${subject} (is the component running?)`, { cause: err });
  if (err instanceof NatsTimeoutError || (err instanceof RequestError && err.cause instanceof NatsTimeoutError))
    return new TimeoutError(`${subject} did not answer within ${timeout} ms`, { cause: err });
  const denied =
    err instanceof PermissionViolationError ? err : err instanceof RequestError && err.cause instanceof PermissionViolationError ? err.cause : undefined;
  if (denied)
    return new EddyError(
      ErrorCode.PermissionDenied,
      `NATS refused to ${denied.operation === "publish" ? "publish to" : "subscribe to"} ${denied.subject} for this connection's role`,
      {
        cause: err,
      },
    );
  if (err instanceof EddyError) return err;
  return new EddyError(ErrorCode.ClusterUnreachable, `request to ${subject} failed: ${(err as Error).message}`, { cause: err });
}
