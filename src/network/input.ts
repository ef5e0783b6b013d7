/**
 * The consumer side of a task: input channels (one per consumed subpartition), grouped in
 * {@link InputGate}s (one per consumed result), merged into one {@link UnionInput} (the RecordInput).
 * Channels queue checkpoint barriers, cancel markers and watermarks in-band with their buffers; the
 * union input aligns barriers over all channels (alignment.ts) and keeps the task's watermark: the
 * minimum of its channels' watermarks, ended channels not counted.
 */
import type { InputChannelDescriptor, InputGateDeploymentDescriptor } from "../deployment/descriptors.js";
import { MIN_WATERMARK, type BarrierEvent, type CheckpointAbortEvent, type CheckpointableInput, type InputBatch, type InputEvent, type WatermarkEvent } from "../runtime/api.js";
import { EddyError, ErrorCode, NotFoundError } from "../core/errors.js";
import { deferred, type Deferred } from "../core/time.js";
import { BarrierAligner, type AlignedChannel, type AlignmentStats } from "./alignment.js";
import type { NetworkEvent } from "./barriers.js";
import { decodeBarrierFrame, decodeCancelFrame, decodeErrorFrame, decodeRecords, decodeWatermarkFrame, frameBacklog, frameKind, frameSeq, FrameKind } from "./frame.js";

/** A FIFO of fixed-size growth without `shift()` costs. */
export class RingQueue<T> {
  private items: Array<T | undefined> = new Array(16);
  private head = 0;
  private count = 0;
  get length(): number {
    return this.count;
  }
  push(v: T): void {
    if (this.count === this.items.length) {
      const next = new Array<T | undefined>(this.items.length * 2);
      for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % this.items.length];
      this.items = next;
      this.head = 0;
    }
    this.items[(this.head + this.count) % this.items.length] = v;
    this.count++;
  }
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const v = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    return v;
  }
}

/** A batch handed to the task; remembers whether it was recycled. */
class Batch implements InputBatch {
  recycled = false;
  constructor(
    readonly gate: number,
    readonly channel: number,
    readonly records: unknown[],
  ) {}
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
  /** Buffers and events received and not yet handed to the task, in order. */
  readonly queue: Array<unknown[] | NetworkEvent> = [];
  /** Events in {@link queue}. */
  queuedEvents = 0;
  /** Held by barrier alignment: delivered the barrier being aligned. */
  blocked = false;
  /** Ended and everything queued was taken. */
  drained = false;
  /** The highest watermark this channel delivered to the task (taken from its queue). */
  watermark = MIN_WATERMARK;
  ended = false;
  released = false;
  /** In the union's ready queue. */
  inReady = false;
  /** Buffers handed to the task and not yet recycled. */
  outstanding = 0;
  /** Floating credits this channel holds (announced, in flight or in use). */
  floating = 0;
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
    protected readonly input: UnionInput,
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
   * sequence number, then hands data, end, barrier, cancel marker or error to the channel.
   */
  onFrame(b: Uint8Array): void {
    if (this.released || !this.checkSeq(frameSeq(b))) return;
    try {
      switch (frameKind(b)) {
        case FrameKind.Data:
          this.onBuffer(decodeRecords(b), frameBacklog(b));
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
        case FrameKind.Watermark:
          this.onEvent({ watermark: decodeWatermarkFrame(b) });
          break;
        case FrameKind.Error:
          this.onError(decodeErrorFrame(b));
          break;
        default:
          this.onError(new EddyError(ErrorCode.InternalError, `channel ${this.name}: unknown frame kind ${frameKind(b)}`));
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

  /** A buffer arrived; the producer has `backlog` more queued. */
  onBuffer(records: unknown[], backlog: number): void {
    if (this.ended || this.released) return;
    this.granted--;
    this.backlog = backlog;
    this.queue.push(records);
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
      new EddyError(ErrorCode.InternalError, `channel ${this.name}: expected buffer #${this.nextSeq}, received #${seq}; data was lost or reordered`, {
        details: { expected: this.nextSeq, received: seq },
      }),
    );
    return false;
  }
}

/** The channels reading one consumed result, and their pool of floating credits. */
export class InputGate {
  readonly channels: InputChannel[] = [];
  private readonly hungry = new Set<InputChannel>();

  constructor(
    readonly index: number,
    readonly desc: InputGateDeploymentDescriptor,
    /** Floating credits not lent to any channel. */
    private pool: number,
  ) {}

  /** Floating credits not lent. */
  get floatingAvailable(): number {
    return this.pool;
  }

  /** Lends floating credits to `ch` up to its producer's backlog; remembers it if the pool runs dry. */
  lend(ch: InputChannel): void {
    const want = ch.wants();
    if (want <= 0) {
      this.hungry.delete(ch);
      return;
    }
    const k = Math.min(want, this.pool);
    if (k > 0) {
      this.pool -= k;
      ch.grant(k);
    }
    if (want > k) this.hungry.add(ch);
    else this.hungry.delete(ch);
  }

  /** A channel returns `n` floating credits; channels waiting for some get them first. */
  giveBack(n: number): void {
    this.pool += n;
    for (const ch of this.hungry) {
      if (this.pool === 0) break;
      this.lend(ch);
    }
  }
}

/** Counters of a {@link UnionInput}. */
export interface InputStats {
  buffersReceived: number;
  recordsReceived: number;
  /** Most buffers of one channel received (queued or with the task) and not recycled. */
  maxUnrecycled: number;
  /** Most buffers of all channels together received and not recycled. */
  maxUnrecycledTotal: number;
}

/**
 * All gates of a task merged: `nextEvent()` takes buffers from the channels in round robin and
 * aligns checkpoint barriers over all of them (alignment.ts): a barrier event is returned once, after
 * every record before the barrier on every channel and before every record after it.
 * `next()` aligns the same way and skips the checkpoint events (see RecordInput.next).
 */
export class UnionInput implements CheckpointableInput {
  readonly gates: InputGate[] = [];
  readonly channels: InputChannel[] = [];
  readonly stats: InputStats = { buffersReceived: 0, recordsReceived: 0, maxUnrecycled: 0, maxUnrecycledTotal: 0 };
  private unrecycled = 0;
  private readonly ready = new RingQueue<InputChannel>();
  /** Checkpoint and watermark events for the task, returned before any later buffer. */
  private readonly events = new RingQueue<BarrierEvent | CheckpointAbortEvent | WatermarkEvent>();
  /** The last watermark handed to the task. */
  private watermark = MIN_WATERMARK;
  private readonly aligner: BarrierAligner<InputChannel>;
  private endedCount = 0;
  private waiter: Deferred<InputEvent | null> | null = null;
  private failure: unknown = null;
  private readonly onAbort = () => this.fail(this.signal?.reason ?? new EddyError(ErrorCode.Shutdown, `task ${this.attemptId} was canceled`));
  private readonly skipEvents = (e: InputEvent | null): InputBatch | null | Promise<InputBatch | null> =>
    e === null || e instanceof Batch ? e : this.next();

  constructor(
    readonly attemptId: string,
    private readonly signal?: AbortSignal,
  ) {
    const channels = this.channels;
    this.aligner = new BarrierAligner<InputChannel>({
      get channelCount() {
        return channels.length;
      },
      emit: (e) => this.events.push(e),
      unblock: (ch) => this.makeReady(ch),
    });
    if (signal?.aborted) this.onAbort();
    else signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Counters of barrier alignment. */
  get alignmentStats(): Readonly<AlignmentStats> {
    return this.aligner.stats;
  }

  /** The checkpoint being aligned now, or null. */
  get pendingCheckpoint(): number | null {
    return this.aligner.pendingCheckpoint;
  }

  /** Channels held by the alignment now. */
  get heldChannels(): number {
    return this.aligner.heldChannels;
  }

  /** The task's current watermark: the last one handed out (MIN_WATERMARK before any). */
  get currentWatermark(): number {
    return this.watermark;
  }

  next(): Promise<InputBatch | null> {
    return this.nextEvent().then(this.skipEvents);
  }

  nextEvent(): Promise<InputEvent | null> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const e = this.poll();
    if (e !== null) return Promise.resolve(e);
    if (this.endedCount === this.channels.length) return Promise.resolve(null);
    if (this.waiter !== null) {
      return Promise.reject(new EddyError(ErrorCode.InternalError, "RecordInput.next() or nextEvent() called again before the previous call resolved"));
    }
    this.waiter = deferred<InputEvent | null>();
    return this.waiter.promise;
  }

  abortCheckpoint(checkpointId: number): boolean {
    const released = this.aligner.abort(checkpointId);
    if (released) this.wake();
    return released;
  }

  recycle(batch: InputBatch): void {
    if (batch instanceof Batch) {
      if (batch.recycled) return;
      batch.recycled = true;
    }
    this.unrecycled--;
    this.gates[batch.gate]?.channels[batch.channel]?.recycle();
  }

  /** True once every channel ended and every buffer and event was taken. */
  get isFinished(): boolean {
    return this.endedCount === this.channels.length && this.ready.length === 0 && this.events.length === 0;
  }

  /** Fails the input: `next()` rejects with `err` from now on. */
  fail(err: unknown): void {
    if (this.failure !== null) return;
    this.failure = err;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(err);
  }

  /** Frees every channel's link. */
  release(): void {
    this.signal?.removeEventListener("abort", this.onAbort);
    for (const ch of this.channels) ch.release();
    this.fail(new EddyError(ErrorCode.Shutdown, `input of ${this.attemptId} was released`));
  }

  /** A channel got a buffer. */
  onData(ch: InputChannel): void {
    const unrecycled = ch.queuedBuffers + ch.outstanding;
    if (unrecycled > this.stats.maxUnrecycled) this.stats.maxUnrecycled = unrecycled;
    if (++this.unrecycled > this.stats.maxUnrecycledTotal) this.stats.maxUnrecycledTotal = this.unrecycled;
    this.makeReady(ch);
    this.wake();
  }

  /** A channel got a barrier or cancel marker. */
  onEvent(ch: InputChannel): void {
    this.makeReady(ch);
    this.wake();
  }

  /** A channel ended. */
  onEnd(ch: InputChannel): void {
    this.endedCount++;
    if (ch.queue.length === 0) this.markDrained(ch);
    this.wake();
  }

  /** Queues `ch` for reading unless it is queued, held or empty. */
  private makeReady(ch: InputChannel): void {
    if (ch.inReady || ch.blocked || ch.queue.length === 0) return;
    ch.inReady = true;
    this.ready.push(ch);
  }

  private markDrained(ch: InputChannel): void {
    if (ch.drained) return;
    ch.drained = true;
    this.aligner.onDrained(ch);
    this.updateWatermark();
  }

  /**
   * Recomputes the task's watermark (the minimum over channels not drained) and queues a watermark
   * event when it advanced. When every channel is drained nothing is queued: the end of input itself
   * stands for the final watermark.
   */
  private updateWatermark(): void {
    let min = Number.POSITIVE_INFINITY;
    const chs = this.channels;
    for (let i = 0; i < chs.length; i++) {
      const ch = chs[i]!;
      if (!ch.drained && ch.watermark < min) min = ch.watermark;
    }
    if (min > this.watermark && min !== Number.POSITIVE_INFINITY) {
      this.watermark = min;
      this.events.push({ watermark: min });
    }
  }

  /** Hands the next event or buffer to a waiting `nextEvent()`, or `null` once all ended. */
  private wake(): void {
    const w = this.waiter;
    if (w === null) return;
    const e = this.poll();
    if (e !== null) {
      this.waiter = null;
      w.resolve(e);
    } else if (this.endedCount === this.channels.length) {
      this.waiter = null;
      w.resolve(null);
    }
  }

  /** The next checkpoint event or buffer; processes the barriers and markers it meets on the way. */
  private poll(): InputEvent | null {
    for (;;) {
      const ev = this.events.shift();
      if (ev !== undefined) return ev;
      const ch = this.ready.shift();
      if (ch === undefined) return null;
      const entry = ch.queue.shift()!;
      if (Array.isArray(entry)) {
        if (ch.queue.length > 0) this.ready.push(ch);
        else ch.inReady = false;
        ch.outstanding++;
        this.stats.buffersReceived++;
        this.stats.recordsReceived += entry.length;
        if (ch.ended && ch.queue.length === 0) this.markDrained(ch);
        return new Batch(ch.gate, ch.index, entry);
      }
      ch.queuedEvents--;
      if ("watermark" in entry) {
        if (entry.watermark > ch.watermark) {
          ch.watermark = entry.watermark;
          this.updateWatermark();
        }
      } else if ("barrier" in entry) this.aligner.onBarrier(ch, entry.barrier);
      else this.aligner.onCancelMarker(entry.cancel);
      if (ch.queue.length > 0 && !ch.blocked) this.ready.push(ch);
      else ch.inReady = false;
      if (ch.ended && ch.queue.length === 0) this.markDrained(ch);
    }
  }
}

/** The PartitionNotFound error of a channel whose producer or partition cannot be found. */
export function partitionNotFound(ch: InputChannel, why: string): EddyError {
  return new NotFoundError(ErrorCode.PartitionNotFound, `result partition ${ch.name} not found: ${why}`, {
    details: { producerAttemptId: ch.desc.producerAttemptId, resultId: ch.resultId, partitionIndex: ch.desc.partitionIndex, subpartitionIndex: ch.desc.subpartitionIndex },
  });
}
