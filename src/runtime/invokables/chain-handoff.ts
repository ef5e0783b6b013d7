/**
 * The in-memory exchange between two chained operators (Flink's ChainingOutput, made batch-wise): the
 * upstream member writes to it as its {@link RecordOutput}, the downstream member reads it as its
 * {@link RecordInput}. Same thread, no encoding, no network: records are collected into arrays and the
 * arrays handed over as they are. Checkpoint barriers and cancel markers travel in-band; watermarks
 * travel inside the batches, between their records.
 */
import { InternalError } from "../../core/errors.js";
import type { CheckpointableInput, CheckpointableOutput } from "../api.js";
import type { BarrierEvent, CheckpointAbortEvent, CheckpointBarrier, InputBatch, InputEvent, WatermarkMarks } from "../../core/stream-events.js";
import { BarrierError, checkBarrier, checkCheckpointId, copyBarrier } from "../../core/stream-events.js";
import { RecordBatch } from "../../core/record-batch.js";

type HandoffEvent = BarrierEvent | CheckpointAbortEvent;

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

/**
 * A bounded queue of record batches between two members of one chain.
 *
 * - `emit` appends to the current batch; a batch is queued when it holds `batchRecords` records, on
 *   `flush()`/`finish()`, and at the end of the upstream member's synchronous run (a microtask), so a
 *   partial batch never waits for more records that may not come. `emitWatermark` puts the watermark
 *   into the current batch after its records (`InputBatch.watermarks`), so watermarks do not cut
 *   batches short; it goes out with the batch, by the same rules.
 * - Backpressure: `isAvailable()` is false while `capacity` batches are queued; `available()` resolves
 *   when the downstream member has taken one (or the chain is aborted). `emit` itself never blocks, so
 *   the queue holds at most `capacity - 1` batches plus what the upstream member emits between two
 *   `isAvailable()` checks (the built-ins check after each input batch or 1024 source records).
 * - End of data: `finish()` (idempotent); `next()` then returns the remaining batches and `null`.
 * - Checkpoints: `broadcastBarrier(b)` queues the partial batch and then the barrier; `nextEvent()`
 *   returns `{barrier}` after every batch before it and before every batch after it (one channel:
 *   nothing to align). `broadcastCancelMarker(n)` reaches `nextEvent()` as `{abort: n, reason: "CANCELED"}`.
 *   `next()` skips both (a reader that ignores checkpoints). Events never count against `capacity`.
 * - Abort (`signal`): a waiting `next()` rejects with the abort reason, a waiting `available()` resolves.
 */
export class ChainHandoff implements CheckpointableOutput, CheckpointableInput {
  /** Batches and checkpoint events, in order. */
  private readonly queue: Array<InputBatch | HandoffEvent> = [];
  /** Events in {@link queue}. */
  private events = 0;
  /** The batch being filled. */
  private readonly buf = new RecordBatch();
  /** The watermarks of the batch being filled, at their places between its records. */
  private marks: WatermarkMarks | undefined = undefined;
  private ended = false;
  /** The downstream member is gone: records are dropped instead of queued. */
  private discarding = false;
  private flushScheduled = false;
  private consumer: Waiter<InputEvent | null> | undefined;
  private producer: (() => void) | undefined;
  private producerWait: Promise<void> | undefined;
  private readonly flushTask = (): void => {
    this.flushScheduled = false;
    if (this.buf.length > 0 || this.marks !== undefined) this.pushBatch();
  };
  private readonly onAbort = (): void => {
    const c = this.consumer;
    this.consumer = undefined;
    c?.reject(this.signal.reason);
    this.wakeProducer();
  };
  /** Most batches ever queued at once. */
  maxQueued = 0;
  /** Batches handed to the downstream member. */
  batchesOut = 0;
  /** Barriers handed to the downstream member. */
  barriersOut = 0;
  private readonly skipEvents = (e: InputEvent | null): InputBatch | null | Promise<InputBatch | null> =>
    e === null || (e as Partial<InputBatch>).records !== undefined ? (e as InputBatch | null) : this.next();

  /**
   * @param batchRecords records per handed-over batch (at least 1)
   * @param capacity queued batches at which `isAvailable()` turns false (at least 1)
   * @param signal the chain's abort signal
   */
  constructor(
    private readonly batchRecords: number,
    private readonly capacity: number,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Batches queued now (not counting the one being filled nor events). */
  get queued(): number {
    return this.queue.length - this.events;
  }

  // ---- RecordOutput (the upstream member) ----

  /** Appends one record; synchronous. Throws after `finish()`. */
  emit(record: unknown): void {
    if (this.ended) throw new InternalError("chained operator emitted a record after finish()");
    if (this.discarding) return;
    if (this.buf.add(record, this.batchRecords) >= this.batchRecords) this.pushBatch();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushTask);
    }
  }

  isAvailable(): boolean {
    return this.queue.length - this.events < this.capacity;
  }

  available(): Promise<void> {
    if (this.queue.length - this.events < this.capacity || this.signal.aborted) return Promise.resolve();
    if (!this.producerWait) {
      this.producerWait = new Promise<void>((resolve) => {
        this.producer = resolve;
      });
    }
    return this.producerWait;
  }

  flush(): void {
    if (this.buf.length > 0 || this.marks !== undefined) this.pushBatch();
  }

  /**
   * Queues the partial batch, then `barrier`: the downstream member sees it after every record emitted
   * so far and before every later one. Never waits. Throws BarrierError after `finish()` or for a
   * malformed barrier; dropped once the downstream member is gone.
   */
  broadcastBarrier(barrier: CheckpointBarrier): void {
    checkBarrier(barrier);
    this.pushEvent({ barrier: copyBarrier(barrier) }, `barrier ${barrier.checkpointId}`);
  }

  /** Queues the partial batch, then a cancel marker for `checkpointId`; as {@link broadcastBarrier}. */
  broadcastCancelMarker(checkpointId: number): void {
    checkCheckpointId(checkpointId);
    this.pushEvent({ abort: checkpointId, reason: "CANCELED" }, `cancel marker ${checkpointId}`);
  }

  /**
   * Puts the watermark into the current batch after its records; it goes out with the batch. Ignored
   * after `finish()` (the end of data stands for the final watermark) and once the downstream member is gone.
   */
  emitWatermark(watermark: number): void {
    if (this.ended || this.discarding) return;
    (this.marks ??= []).push(this.buf.length, watermark);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushTask);
    }
  }

  /** End of data; idempotent. Resolves at once (the batches are queued for the downstream member). */
  finish(): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.flush();
    this.ended = true;
    const c = this.consumer;
    if (c && this.queue.length === 0) {
      this.consumer = undefined;
      c.resolve(null);
    }
    return Promise.resolve();
  }

  // ---- RecordInput (the downstream member) ----

  /** The next batch, skipping checkpoint events; `null` after `finish()` once all was taken. */
  next(): Promise<InputBatch | null> {
    return this.nextEvent().then(this.skipEvents);
  }

  /** The next batch or checkpoint event, in emission order; `null` after `finish()` once all was taken. */
  nextEvent(): Promise<InputEvent | null> {
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    if (this.queue.length > 0) return Promise.resolve(this.take());
    if (this.ended) return Promise.resolve(null);
    if (this.consumer) return Promise.reject(new InternalError("chained operator called input.next() again before the previous call resolved"));
    return new Promise<InputEvent | null>((resolve, reject) => {
      this.consumer = { resolve, reject };
    });
  }

  /** Nothing to release: one upstream member, so no barrier is ever held here. Always false. */
  abortCheckpoint(_checkpointId: number): boolean {
    return false;
  }

  /** Nothing to return: the batch was never a network buffer. */
  recycle(_batch: InputBatch): void {}

  /**
   * The downstream member ended (possibly before reading everything): queued and later records are
   * dropped and the upstream member is never held back again.
   */
  closeConsumer(): void {
    this.discarding = true;
    this.queue.length = 0;
    this.events = 0;
    this.buf.clear();
    this.marks = undefined;
    this.wakeProducer();
  }

  /** Detaches from the abort signal. */
  dispose(): void {
    this.signal.removeEventListener("abort", this.onAbort);
  }

  private pushBatch(): void {
    const batch: InputBatch = { gate: 0, channel: 0, records: this.buf.take(), watermarks: this.marks };
    this.marks = undefined;
    const c = this.consumer;
    if (c) {
      // The downstream member is waiting, so the queue is empty: hand the batch over directly.
      this.consumer = undefined;
      this.batchesOut++;
      if (this.maxQueued === 0) this.maxQueued = 1;
      c.resolve(batch);
      return;
    }
    this.queue.push(batch);
    const queued = this.queue.length - this.events;
    if (queued > this.maxQueued) this.maxQueued = queued;
  }

  private pushEvent(event: HandoffEvent, what: string): void {
    if (this.ended) throw new BarrierError(`chained operator sent a ${what} after finish()`);
    if (this.discarding) return;
    if (this.buf.length > 0 || this.marks !== undefined) this.pushBatch();
    if ("barrier" in event) this.barriersOut++;
    const c = this.consumer;
    if (c) {
      // The downstream member is waiting, so the queue is empty: hand the event over directly.
      this.consumer = undefined;
      c.resolve(event);
      return;
    }
    this.queue.push(event);
    this.events++;
  }

  private take(): InputEvent {
    const entry = this.queue.shift()!;
    if ((entry as Partial<InputBatch>).records === undefined) {
      this.events--;
      return entry;
    }
    this.batchesOut++;
    if (this.producer && this.queue.length - this.events < this.capacity) this.wakeProducer();
    return entry;
  }

  private wakeProducer(): void {
    const p = this.producer;
    this.producer = undefined;
    this.producerWait = undefined;
    p?.();
  }
}

/**
 * `p`, or a rejection with `signal`'s reason as soon as it aborts (what `p` does later is ignored).
 * One listener per call: meant for per-batch waits, never per record.
 */
export function rejectOnAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => undefined); // abandoned for the abort reason: its own outcome no longer matters
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
