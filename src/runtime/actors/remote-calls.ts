/**
 * Calls to remote actor types: the messages for one address go out in order, one request at a time
 * (a batch of up to `maxBatch`), while different addresses are called concurrently up to
 * `maxInFlight`. A reply is applied (through the host) in one synchronous step when it arrives, and
 * only then do its messages leave this object: what it holds, sent or not, is part of every
 * checkpoint, so a restore sends those messages again. A timeout, an error reply or a bad reply fails
 * the task through the host.
 */
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { EddyError, ErrorCode } from "../../core/errors.js";
import { natsRequestError } from "../../rpc/gateway.js";
import { decodeReply, encodeRequest, functionSubject, type RemoteReply } from "./remote-protocol.js";
import { addressKey, type Address, type Envelope, type RemoteSettings } from "./types.js";

/** What the calls need from the operator. */
export interface RemoteCallsHost {
  readonly nats: NatsConnection;
  readonly prefix: string;
  readonly settings: RemoteSettings;
  /** Actor types and egresses a reply may name. */
  readonly types: ReadonlySet<string>;
  readonly egresses: ReadonlySet<string>;
  /** The address's current state (undefined: none yet). */
  stateOf(address: Address): unknown;
  /** Applies a checked reply to the batch it answers. */
  apply(address: Address, batch: readonly Envelope[], reply: RemoteReply): void;
  fail(err: unknown): void;
  /** Something changed: a reply was applied. */
  wake(): void;
}

export class RemoteCalls {
  /** Per address, its messages not yet answered (the first `inFlight.get(key)` are in the request out). */
  private readonly held = new Map<string, Envelope[]>();
  private readonly inFlight = new Map<string, number>();
  /** Addresses with messages and no request out, in the order they became so. */
  private readonly ready: string[] = [];
  private heldCount = 0;
  private closed = false;
  private readonly headers = natsHeaders();

  constructor(private readonly host: RemoteCallsHost) {
    this.headers.set("Content-Type", "application/json");
  }

  /** Messages held (waiting or in a request). */
  get pending(): number {
    return this.heldCount;
  }

  /** Requests out now. */
  get requestsOut(): number {
    return this.inFlight.size;
  }

  add(e: Envelope): void {
    const key = addressKey(e.to);
    let list = this.held.get(key);
    if (!list) this.held.set(key, (list = []));
    list.push(e);
    this.heldCount++;
    if (list.length === 1 && !this.inFlight.has(key)) this.ready.push(key);
    this.pump();
  }

  /** Every held message, per address in order (what a checkpoint keeps). */
  toArray(): Envelope[] {
    const out: Envelope[] = [];
    for (const list of this.held.values()) for (const e of list) out.push(e);
    return out;
  }

  /** Stops: replies that still come are ignored. */
  close(): void {
    this.closed = true;
  }

  private pump(): void {
    while (!this.closed && this.inFlight.size < this.host.settings.maxInFlight && this.ready.length > 0) this.call(this.ready.shift()!);
  }

  private call(key: string): void {
    const list = this.held.get(key)!;
    const batch = list.slice(0, this.host.settings.maxBatch);
    const address = batch[0]!.to;
    this.inFlight.set(key, batch.length);
    const subject = functionSubject(this.host.prefix, address.type);
    const { timeoutMs } = this.host.settings;
    let body: Uint8Array;
    try {
      body = encodeRequest(address, this.host.stateOf(address), batch);
    } catch (err) {
      this.host.fail(
        new EddyError(
          ErrorCode.TaskFailed,
          `the request to ${subject} for ${JSON.stringify(address.id)} cannot be written as JSON: ${(err as Error).message}`,
          { cause: err },
        ),
      );
      return;
    }
    this.host.nats.request(subject, body, { timeout: timeoutMs, headers: this.headers }).then(
      (msg) => {
        if (this.closed) return;
        let reply: RemoteReply;
        try {
          reply = decodeReply(msg.data, address, this.host.types, this.host.egresses, this.host.settings.maxReplyBytes);
        } catch (err) {
          this.host.fail(err);
          return;
        }
        this.host.apply(address, batch, reply);
        list.splice(0, batch.length);
        this.heldCount -= batch.length;
        this.inFlight.delete(key);
        if (list.length > 0) this.ready.push(key);
        else this.held.delete(key);
        this.pump();
        this.host.wake();
      },
      (err: unknown) => {
        if (this.closed) return;
        const e = natsRequestError(err, subject, timeoutMs);
        this.host.fail(
          new EddyError(ErrorCode.RemoteFunctionFailed, `the remote function of ${address.type} (actor ${JSON.stringify(address.id)}) failed: ${e.message}`, {
            cause: e,
            details: { address, code: e.code },
          }),
        );
      },
    );
  }
}
