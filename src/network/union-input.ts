/**
 * The consumer side of a task merged (Flink's UnionInputGate and the task's input processor): input
 * channels (input-channel.ts, one per consumed subpartition), grouped in input gates (input-gate.ts,
 * one per consumed result), merged into one {@link UnionInput} (the RecordInput). Channels queue
 * checkpoint barriers and cancel markers in-band with their buffers, and buffers carry watermarks
 * between their records; the union input aligns barriers over all channels (alignment.ts) and keeps
 * the task's watermark: the minimum of its channels' watermarks, ended channels not counted. A buffer
 * is handed to the task whole, with the task's watermarks at the places where its channel's watermarks
 * advanced that minimum (a buffer is taken at once, so no other channel's watermark moves in between).
 */
import type { CheckpointableInput } from "../runtime/api.js";
import {
  MIN_WATERMARK,
  type BarrierEvent,
  type CheckpointAbortEvent,
  type InputBatch,
  type InputEvent,
  type WatermarkEvent,
  type WatermarkMarks,
} from "../core/stream-events.js";
import { checkMarks } from "../core/watermark-marks.js";
import { EddyError, ErrorCode, InternalError } from "../core/errors.js";
import { deferred, type Deferred } from "../core/time.js";
import { BarrierAligner, type AlignmentStats } from "./alignment.js";
import type { ChannelOwner, InputChannel } from "./input-channel.js";
import type { InputGate } from "./input-gate.js";
import { RingQueue } from "./ring-queue.js";
import { decodeRecords, decodeWatermarks } from "./frame.js";
import { RecordBuffer } from "./subpartition.js";
import type { IoTimer } from "./io-timer.js";

/** A batch handed to the task; remembers whether it was recycled. */
class Batch implements InputBatch {
  recycled = false;
  constructor(
    readonly gate: number,
    readonly channel: number,
    readonly records: unknown[],
    readonly watermarks: WatermarkMarks | undefined,
  ) {}
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
export class UnionInput implements CheckpointableInput, ChannelOwner {
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
  private readonly skipEvents = (e: InputEvent | null): InputBatch | null | Promise<InputBatch | null> => (e === null || e instanceof Batch ? e : this.next());

  constructor(
    readonly attemptId: string,
    private readonly signal?: AbortSignal,
    /** The task's time accounting: waits in `nextEvent()` for data count as idle. */
    private readonly timer?: IoTimer,
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
    const e = this.pollOrFail();
    if (this.failure !== null) return Promise.reject(this.failure);
    if (e !== null) return Promise.resolve(e);
    if (this.endedCount === this.channels.length) return Promise.resolve(null);
    if (this.waiter !== null) {
      return Promise.reject(new InternalError("RecordInput.next() or nextEvent() called again before the previous call resolved"));
    }
    this.waiter = deferred<InputEvent | null>();
    this.timer?.idleStart();
    return this.waiter.promise;
  }

  /** Encoded bytes received by every channel (0 on same-thread links). */
  get bytesReceived(): number {
    let n = 0;
    const chs = this.channels;
    for (let i = 0; i < chs.length; i++) n += chs[i]!.bytesReceived;
    return n;
  }

  /** Received buffers not yet recycled as a share of the credits the gates can grant (0..1): Flink's inPoolUsage. */
  inPoolUsage(creditsPerChannel: number, floatingPerGate: number): number {
    const total = this.channels.length * creditsPerChannel + this.gates.length * floatingPerGate;
    return total > 0 ? Math.min(1, this.unrecycled / total) : 0;
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
    if (w !== null) this.timer?.idleEnd();
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
    if (this.advanceWatermark()) this.events.push({ watermark: this.watermark });
  }

  /** Sets the task's watermark to the minimum over the channels not drained; true when it advanced. */
  private advanceWatermark(): boolean {
    let min = Number.POSITIVE_INFINITY;
    const chs = this.channels;
    for (let i = 0; i < chs.length; i++) {
      const ch = chs[i]!;
      if (!ch.drained && ch.watermark < min) min = ch.watermark;
    }
    if (min <= this.watermark || min === Number.POSITIVE_INFINITY) return false;
    this.watermark = min;
    return true;
  }

  /**
   * The task's watermarks of a buffer of `ch` whose channel watermarks are `marks`: at the place of each
   * of them that advances the task's watermark, the new task watermark (undefined when none does).
   */
  private taskMarks(ch: InputChannel, marks: WatermarkMarks): WatermarkMarks | undefined {
    let out: WatermarkMarks | undefined;
    for (let i = 0; i < marks.length; i += 2) {
      const w = marks[i + 1]!;
      if (w <= ch.watermark) continue;
      ch.watermark = w;
      if (this.advanceWatermark()) (out ??= []).push(marks[i]!, this.watermark);
    }
    return out;
  }

  /** Hands the next event or buffer to a waiting `nextEvent()`, or `null` once all ended. */
  private wake(): void {
    const w = this.waiter;
    if (w === null) return;
    const e = this.pollOrFail();
    if (this.failure !== null) return; // fail() rejected the waiter
    if (e !== null) {
      this.waiter = null;
      this.timer?.idleEnd();
      w.resolve(e);
    } else if (this.endedCount === this.channels.length) {
      this.waiter = null;
      this.timer?.idleEnd();
      w.resolve(null);
    }
  }

  /** {@link poll}, or null after failing the input with what it threw (a DATA frame that does not decode). */
  private pollOrFail(): InputEvent | null {
    try {
      return this.poll();
    } catch (err) {
      this.fail(err);
      return null;
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
      const isFrame = entry instanceof Uint8Array;
      if (isFrame || entry instanceof RecordBuffer) {
        if (ch.queue.length > 0) this.ready.push(ch);
        else ch.inReady = false;
        ch.outstanding++;
        let records: unknown[];
        let marks: WatermarkMarks | undefined;
        if (isFrame) {
          records = decodeFrame(ch, entry);
          marks = decodeFrameMarks(ch, entry, records.length);
        } else {
          records = entry.records;
          marks = entry.marks;
        }
        if (marks !== undefined) marks = this.taskMarks(ch, marks);
        this.stats.buffersReceived++;
        this.stats.recordsReceived += records.length;
        if (ch.ended && ch.queue.length === 0) this.markDrained(ch);
        return new Batch(ch.gate, ch.index, records, marks);
      }
      ch.queuedEvents--;
      if ("barrier" in entry) this.aligner.onBarrier(ch, entry.barrier);
      else this.aligner.onCancelMarker(entry.cancel);
      if (ch.queue.length > 0 && !ch.blocked) this.ready.push(ch);
      else ch.inReady = false;
      if (ch.ended && ch.queue.length === 0) this.markDrained(ch);
    }
  }
}

/** The records of a queued DATA frame of `ch`; a body that does not decode fails the input. */
function decodeFrame(ch: InputChannel, frame: Uint8Array): unknown[] {
  try {
    return decodeRecords(frame);
  } catch (err) {
    throw new InternalError(`channel ${ch.name}: a DATA frame of ${frame.length} bytes does not decode`, { cause: err });
  }
}

/** The watermarks of a queued DATA frame of `ch` with `records` records; watermarks out of place fail the input. */
function decodeFrameMarks(ch: InputChannel, frame: Uint8Array, records: number): WatermarkMarks | undefined {
  const marks = decodeWatermarks(frame);
  if (marks !== undefined) checkMarks(marks, records, `channel ${ch.name}, a DATA frame of ${frame.length} bytes`);
  return marks;
}
