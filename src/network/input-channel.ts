/**
 * One input channel (Flink's InputChannel): reads one subpartition of one producer over some link
 * (same thread, another thread, NATS, a BLOCKING stream), checks frame sequence numbers, queues
 * buffers (with the watermarks inside them) and in-band events (barriers, cancel markers) and keeps its credits. The
 * links subclass it; the channels of a task are merged by the union input (union-input.ts).
 */
import type { InputChannelDescriptor } from "../deployment/descriptors.js";
import { MIN_WATERMARK } from "../core/stream-events.js";
import { type EddyError, ErrorCode, NotFoundError, InternalError } from "../core/errors.js";
import type { AlignedChannel } from "./alignment.js";
import type { NetworkEvent } from "../core/stream-events.js";
import type { RecordBuffer } from "./subpartition.js";
import {
  decodeBarrierFrame,
  decodeCancelFrame,
  decodeErrorFrame,
  frameBacklog,
  frameKind,
  frameSeq,
  FrameKind,
  FRAME_VERSION,
  frameVersion,
  versionError,
} from "./frame.js";

/**
 * What a channel reports to and borrows from: the task's union input, whose gates hold the floating
 * credits (an interface, so the channel does not depend on the union input's module).
 */
export interface ChannelOwner {
  readonly gates: ReadonlyArray<{ giveBack(n: number): void; lend(ch: InputChannel): void }>;
  onData(ch: InputChannel): void;
  onEvent(ch: InputChannel): void;
  onEnd(ch: InputChannel): void;
  fail(err: unknown): void;
}

/** Where a channel lives in its task. */
export interface ChannelPosition {
  /** Gate index (TDD order). */
  gate: number;
  /** Channel index within the gate. */
  index: number;
  /** Index among all channels of the task (the id on the wire). */
  id: number;
  resultId: string;
  desc: InputChannelDescriptor;
  /** Exclusive credits of the channel (its initial credit). */
  credits: number;
}

/** One input channel: reads one subpartition of one producer over some link. */
export abstract class InputChannel implements AlignedChannel {
  /** Buffers (records, or DATA frames decoded when taken) and events received and not yet handed to the task, in arrival order. */
  readonly queue: Array<RecordBuffer | Uint8Array | NetworkEvent> = [];
  /** Events in {@link queue}. */
  queuedEvents = 0;
  /** Held by barrier alignment: delivered the barrier being aligned. */
  blocked = false;
  /** Ended and everything queued was taken. */
  drained = false;
  /** The highest watermark this channel delivered to the task (from the buffers taken from its queue). */
  watermark = MIN_WATERMARK;
  ended = false;
  released = false;
  /** In the union's ready queue. */
  inReady = false;
  /** Buffers handed to the task and not yet recycled. */
  outstanding = 0;
  /** Floating credits this channel holds (announced, in flight or in use). */
  floating = 0;
  /** Encoded bytes of the data frames received (links that carry frames: other threads, NATS, JetStream). */
  bytesReceived = 0;
  /** Buffers the producer said it still had queued, with its last buffer. */
  backlog = 0;
  /** Exclusive credits, announced with the partition request. */
  readonly initialCredit: number;
  /** Credits announced to the producer and not yet used by a buffer. */
  private granted: number;
  private nextSeq = 0;
  readonly gate: number;
  readonly index: number;
  readonly id: number;
  readonly resultId: string;
  readonly desc: InputChannelDescriptor;

  constructor(
    protected readonly input: ChannelOwner,
    pos: ChannelPosition,
  ) {
    this.gate = pos.gate;
    this.index = pos.index;
    this.id = pos.id;
    this.resultId = pos.resultId;
    this.desc = pos.desc;
    this.initialCredit = pos.credits;
    this.granted = pos.credits;
  }

  /** A readable name for messages. */
  get name(): string {
    return `${this.resultId}#${this.desc.partitionIndex}.${this.desc.subpartitionIndex}@${this.desc.producerAttemptId}`;
  }

  /** Starts connecting to the producer (in the background; failures go to the input). */
  abstract start(): void;
  /** Announces `n` more credits to the producer. */
  protected abstract sendCredit(n: number): void;
  /**
   * One frame of this channel arrived (the cross-thread and NATS links share this): checks its
   * layout version and sequence number, then hands data, end, barrier, cancel marker or error to the channel.
   */
  onFrame(b: Uint8Array): void {
    if (this.released) return;
    if (frameVersion(b) !== FRAME_VERSION) {
      this.onError(versionError(frameVersion(b), `channel ${this.name}`));
      return;
    }
    if (!this.checkSeq(frameSeq(b))) return;
    try {
      switch (frameKind(b)) {
        case FrameKind.Data:
          this.bytesReceived += b.byteLength;
          // Decoded when the task takes it: queued frames are single objects to the garbage collector.
          this.onBuffer(b, frameBacklog(b));
          break;
        case FrameKind.EndOfPartition:
          this.onEnd();
          this.afterEndFrame();
          break;
        case FrameKind.Barrier:
          this.onEvent({ barrier: decodeBarrierFrame(b) });
          break;
        case FrameKind.CancelCheckpoint:
          this.onEvent({ cancel: decodeCancelFrame(b) });
          break;
        case FrameKind.Error:
          this.onError(decodeErrorFrame(b));
          break;
        default:
          this.onError(new InternalError(`channel ${this.name}: unknown frame kind ${frameKind(b)}`));
      }
    } catch (err) {
      this.onError(err);
    }
  }

  /** Called after an END_OF_PARTITION frame (a link closes its transport here). */
  protected afterEndFrame(): void {}

  /** Frees the link (the task is released). */
  protected abstract releaseLink(): void;

  /** The task is done with one buffer of this channel. */
  recycle(): void {
    this.outstanding--;
    if (this.released) return;
    if (this.floating > 0 && (this.ended || this.backlog <= this.granted)) {
      this.floating--;
      this.input.gates[this.gate]!.giveBack(1);
      return;
    }
    if (this.ended) return;
    this.granted++;
    this.sendCredit(1);
  }

  /** Credits this channel could use beyond those granted (its producer's backlog). */
  wants(): number {
    return this.ended || this.released ? 0 : this.backlog - this.granted;
  }

  /** Lends `k` floating credits to this channel. */
  grant(k: number): void {
    this.floating += k;
    this.granted += k;
    this.sendCredit(k);
  }

  /** Frees the link; idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.releaseLink();
  }

  /** A buffer (records, or a DATA frame) arrived; the producer has `backlog` more queued. */
  onBuffer(buffer: RecordBuffer | Uint8Array, backlog: number): void {
    if (this.ended || this.released) return;
    this.granted--;
    this.backlog = backlog;
    this.queue.push(buffer);
    this.input.onData(this);
    if (backlog > this.granted) this.input.gates[this.gate]!.lend(this);
  }

  /** A checkpoint barrier or cancel marker arrived (in order with the buffers; it used no credit). */
  onEvent(event: NetworkEvent): void {
    if (this.ended || this.released) return;
    this.queue.push(event);
    this.queuedEvents++;
    this.input.onEvent(this);
  }

  /** Buffers queued (not counting events). */
  get queuedBuffers(): number {
    return this.queue.length - this.queuedEvents;
  }

  /** END_OF_PARTITION arrived. */
  onEnd(): void {
    if (this.ended || this.released) return;
    this.ended = true;
    const idle = this.floating - (this.queuedBuffers + this.outstanding);
    if (idle > 0) {
      this.floating -= idle;
      this.input.gates[this.gate]!.giveBack(idle);
    }
    this.input.onEnd(this);
  }

  /** The link failed. */
  onError(err: unknown): void {
    if (this.released) return;
    this.input.fail(err);
  }

  /** Checks a frame's sequence number; a gap or reordering fails the input loudly. */
  protected checkSeq(seq: number): boolean {
    if (seq === this.nextSeq) {
      this.nextSeq = (seq + 1) >>> 0;
      return true;
    }
    this.onError(
      new InternalError(`channel ${this.name}: expected buffer #${this.nextSeq}, received #${seq}; data was lost or reordered`, {
        details: { expected: this.nextSeq, received: seq },
      }),
    );
    return false;
  }
}

/** The PartitionNotFound error of a channel whose producer or partition cannot be found. */
export function partitionNotFound(ch: InputChannel, why: string): EddyError {
  return new NotFoundError(ErrorCode.PartitionNotFound, `result partition ${ch.name} not found: ${why}`, {
    details: {
      producerAttemptId: ch.desc.producerAttemptId,
      resultId: ch.resultId,
      partitionIndex: ch.desc.partitionIndex,
      subpartitionIndex: ch.desc.subpartitionIndex,
    },
  });
}
