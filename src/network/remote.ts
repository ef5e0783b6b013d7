/**
 * The remote link (other TaskExecutor) over NATS. A consumer task subscribes once to
 * `subjects.data(consumerAttemptId)`; a producer task subscribes once to `subjects.credit(producerAttemptId)`.
 * Partition requests are NATS requests (retried with backoff until the producer answers); buffers,
 * credits and cancels are plain publishes. The wire format is in frame.ts.
 */
import { subscribeProtocol } from "../rpc/stream-delivery.js";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Subjects } from "../rpc/subjects.js";
import { EddyError, ErrorCode, errorFromWire, type WireError } from "../core/errors.js";
import { sleep } from "../core/time.js";
import type { NetworkConfig } from "./config.js";
import {
  controlCount,
  ControlKind,
  decodeRequest,
  encodeCancel,
  encodeEventFrame,
  encodeCredit,
  encodeDataFrame,
  stampDataFrame,
  encodeEndFrame,
  encodeErrorFrame,
  encodeRequest,
  frameChannel,
  packSmall,
  readU32,
  unpackSmall,
  FRAME_VERSION,
  frameVersion,
  versionError,
} from "./frame.js";
import { InputChannel, partitionNotFound, type ChannelPosition } from "./input-channel.js";
import type { UnionInput } from "./union-input.js";
import type { RecordWriterOutput } from "./record-writer.js";
import type { RecordBuffer, ResultSubpartition, SubpartitionReader } from "./subpartition.js";
import type { NetworkEvent } from "../core/stream-events.js";

/** Producer side of one remote link: publishes frames to the consumer's data subject. */
class NatsReader implements SubpartitionReader {
  readonly adaptive = true;
  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly channel: number,
    readonly maxFrameBytes: number,
    readonly sub: ResultSubpartition,
  ) {}
  sendData(buffer: RecordBuffer, seq: number, backlog: number): number {
    return this.sendFrame(encodeDataFrame(this.channel, seq, buffer.records, backlog, buffer.marks), seq, backlog);
  }
  sendFrame(frame: Uint8Array, seq: number, backlog: number): number {
    if (frame.length > this.maxFrameBytes) return -frame.length;
    stampDataFrame(frame, this.channel, seq, backlog);
    this.nc.publish(this.subject, frame);
    return frame.length;
  }
  sendEnd(seq: number): void {
    this.nc.publish(this.subject, encodeEndFrame(this.channel, seq));
  }
  sendError(err: EddyError, seq: number): void {
    this.nc.publish(this.subject, encodeErrorFrame(this.channel, seq, err));
  }
  sendEvent(event: NetworkEvent, seq: number): void {
    const f = encodeEventFrame(this.channel, seq, event);
    this.nc.publish(this.subject, f);
  }
  close(): void {}
}

/** Serves partition requests, credits and cancels of one producer attempt. */
export class RemoteProducerEndpoint {
  private readonly sub: Subscription;
  private readonly views: Array<NatsReader | undefined> = [];
  private readonly byConsumer = new Map<string, number>();

  constructor(
    private readonly nc: NatsConnection,
    subjects: Subjects,
    private readonly writer: RecordWriterOutput,
    private readonly cfg: NetworkConfig,
  ) {
    this.sub = subscribeProtocol(nc, subjects.credit(writer.attemptId), (msg) => {
      try {
        this.onMessage(msg.data, msg);
      } catch (e) {
        writer.fail(e);
      }
    });
  }

  /** True when some consumer is attached over NATS. */
  get hasViews(): boolean {
    return this.views.length > 0;
  }

  /** Waits until the NATS server has everything published so far. */
  async flush(): Promise<void> {
    if (this.views.length > 0 && !this.nc.isClosed()) await this.nc.flush();
  }

  /** Unsubscribes. */
  close(): void {
    this.sub.unsubscribe();
  }

  private onMessage(b: Uint8Array, msg: { respond(data: Uint8Array): boolean }): void {
    switch (b[0]) {
      case ControlKind.PartitionRequest:
        this.onRequest(b, msg);
        break;
      case ControlKind.Credit: {
        const n = controlCount(b);
        for (let i = 0; i < n; i++) this.views[readU32(b, 4 + 8 * i)]?.sub.addCredit(readU32(b, 8 + 8 * i));
        break;
      }
      case ControlKind.Cancel: {
        const n = controlCount(b);
        for (let i = 0; i < n; i++) {
          const v = this.views[readU32(b, 4 + 4 * i)];
          v?.sub.detach(v);
        }
        break;
      }
      case ControlKind.Ping:
        msg.respond(packSmall({}));
        break;
    }
  }

  private onRequest(b: Uint8Array, msg: { respond(data: Uint8Array): boolean }): void {
    if (frameVersion(b) !== FRAME_VERSION) {
      msg.respond(packSmall({ e: versionError(frameVersion(b), `producer ${this.writer.attemptId}, partition request`).toWire() }));
      return;
    }
    const req = decodeRequest(b);
    const key = `${req.a}/${req.ch}`;
    const known = this.byConsumer.get(key);
    if (known !== undefined) {
      msg.respond(packSmall({ v: known }));
      return;
    }
    const sub = this.writer.findPartition(req.r, req.p)?.subpartitions[req.s];
    if (!sub) {
      const e = new EddyError(ErrorCode.PartitionNotFound, `producer ${this.writer.attemptId} has no partition ${req.r}#${req.p}.${req.s}`);
      msg.respond(packSmall({ e: e.toWire() }));
      return;
    }
    const viewId = this.views.length;
    // never above what this server accepts (payload plus protocol slack)
    const serverMax = this.nc.info?.max_payload;
    const maxFrame = serverMax ? Math.min(this.cfg.maxFrameBytes, serverMax - 1024) : this.cfg.maxFrameBytes;
    const view = new NatsReader(this.nc, req.d, req.ch, maxFrame, sub);
    this.views.push(view);
    this.byConsumer.set(key, viewId);
    msg.respond(packSmall({ v: viewId }));
    sub.attach(view, req.c);
  }
}

/** Receives the frames of all remote channels of one consumer attempt (one subscription). */
export class RemoteConsumerEndpoint {
  private readonly sub: Subscription;
  readonly subject: string;
  private readonly channels: Array<RemoteInputChannel | undefined> = [];

  constructor(
    readonly nc: NatsConnection,
    readonly subjects: Subjects,
    readonly attemptId: string,
    readonly cfg: NetworkConfig,
  ) {
    this.subject = subjects.data(attemptId);
    this.sub = subscribeProtocol(nc, this.subject, (msg) => {
      const b = msg.data;
      if (b.length >= 12) this.channels[frameChannel(b)]?.onFrame(b);
    });
  }

  /** True while some channel still expects frames (not ended, not released). */
  get open(): boolean {
    return this.channels.some((ch) => ch !== undefined && !ch.ended && !ch.released);
  }

  /** Routes frames with `ch.id` to `ch`. */
  add(ch: RemoteInputChannel): void {
    this.channels[ch.id] = ch;
  }

  /** Unsubscribes. */
  close(): void {
    this.sub.unsubscribe();
  }
}

/** Consumer side of a remote link. */
export class RemoteInputChannel extends InputChannel {
  private viewId = -1;
  private pendingCredit = 0;
  private readonly creditSubject: string;

  constructor(
    input: UnionInput,
    pos: ChannelPosition,
    private readonly endpoint: RemoteConsumerEndpoint,
  ) {
    super(input, pos);
    this.creditSubject = endpoint.subjects.credit(pos.desc.producerAttemptId);
    endpoint.add(this);
  }

  start(): void {
    this.request().catch((err: unknown) => this.onError(err));
  }

  /** Sends the partition request until the producer answers, with backoff, up to the deadline. */
  private async request(): Promise<void> {
    const { nc, cfg } = this.endpoint;
    const body = encodeRequest({
      r: this.resultId,
      p: this.desc.partitionIndex,
      s: this.desc.subpartitionIndex,
      ch: this.id,
      d: this.endpoint.subject,
      c: this.initialCredit,
      a: this.endpoint.attemptId,
    });
    const deadline = Date.now() + cfg.partitionRequestTimeoutMs;
    let delay = cfg.requestBackoffInitialMs;
    let last = "no answer";
    while (!this.released) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        const reply = await nc.request(this.creditSubject, body, { timeout: Math.max(1, Math.min(cfg.requestAttemptTimeoutMs, left)) });
        const r = unpackSmall(reply.data) as { v?: number; e?: WireError };
        if (r.e) {
          this.onError(errorFromWire(r.e));
          return;
        }
        this.viewId = r.v!;
        if (this.pendingCredit > 0 && !this.released && !this.ended) this.publish(encodeCredit(this.viewId, this.pendingCredit));
        this.pendingCredit = 0;
        return;
      } catch (err) {
        last = (err as Error).message;
      }
      const wait = Math.min(delay, deadline - Date.now());
      if (wait <= 0) break;
      await sleep(wait);
      delay = Math.min(delay * 2, cfg.requestBackoffMaxMs);
    }
    if (!this.released) this.onError(partitionNotFound(this, `producer did not answer within ${cfg.partitionRequestTimeoutMs} ms (${last})`));
  }

  protected sendCredit(n: number): void {
    if (this.viewId < 0) this.pendingCredit += n;
    else this.publish(encodeCredit(this.viewId, n));
  }

  protected releaseLink(): void {
    if (this.viewId >= 0 && !this.ended) this.publish(encodeCancel([this.viewId]));
  }

  private publish(frame: Uint8Array): void {
    try {
      this.endpoint.nc.publish(this.creditSubject, frame);
    } catch (err) {
      this.onError(err);
    }
  }
}
