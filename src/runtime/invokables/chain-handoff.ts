/**
 * The in-memory exchange between two chained operators (Flink's ChainingOutput, made batch-wise): the
 * upstream member writes to it as its {@link RecordOutput}, the downstream member reads it as its
 * {@link RecordInput}. Same thread, no encoding, no network: records are collected into arrays and the
 * arrays handed over as they are.
 */
import { EddyError, ErrorCode } from "../../core/errors.js";
import type { InputBatch, RecordInput, RecordOutput } from "../api.js";

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

/**
 * A bounded queue of record batches between two members of one chain.
 *
 * - `emit` appends to the current batch; a batch is queued when it holds `batchRecords` records, on
 *   `flush()`/`finish()`, and at the end of the upstream member's synchronous run (a microtask), so a
 *   partial batch never waits for more records that may not come.
 * - Backpressure: `isAvailable()` is false while `capacity` batches are queued; `available()` resolves
 *   when the downstream member has taken one (or the chain is aborted). `emit` itself never blocks, so
 *   the queue holds at most `capacity - 1` batches plus what the upstream member emits between two
 *   `isAvailable()` checks (the built-ins check after each input batch or 1024 source records).
 * - End of data: `finish()` (idempotent); `next()` then returns the remaining batches and `null`.
 * - Abort (`signal`): a waiting `next()` rejects with the abort reason, a waiting `available()` resolves.
 */
export class ChainHandoff implements RecordOutput, RecordInput {
  private readonly queue: unknown[][] = [];
  private buf: unknown[] = [];
  private ended = false;
  /** The downstream member is gone: records are dropped instead of queued. */
  private discarding = false;
  private flushScheduled = false;
  private consumer: Waiter<InputBatch | null> | undefined;
  private producer: (() => void) | undefined;
  private producerWait: Promise<void> | undefined;
  private readonly flushTask = (): void => {
    this.flushScheduled = false;
    if (this.buf.length > 0) this.pushBatch();
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

  /** Batches queued now (not counting the one being filled). */
  get queued(): number {
    return this.queue.length;
  }

  // ---- RecordOutput (the upstream member) ----

  /** Appends one record; synchronous. Throws after `finish()`. */
  emit(record: unknown): void {
    if (this.ended) throw new EddyError(ErrorCode.InternalError, "chained operator emitted a record after finish()");
    if (this.discarding) return;
    const b = this.buf;
    b.push(record);
    if (b.length >= this.batchRecords) this.pushBatch();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushTask);
    }
  }

  isAvailable(): boolean {
    return this.queue.length < this.capacity;
  }

  available(): Promise<void> {
    if (this.queue.length < this.capacity || this.signal.aborted) return Promise.resolve();
    if (!this.producerWait) {
      this.producerWait = new Promise<void>((resolve) => {
        this.producer = resolve;
      });
    }
    return this.producerWait;
  }

  flush(): void {
    if (this.buf.length > 0) this.pushBatch();
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

  next(): Promise<InputBatch | null> {
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    if (this.queue.length > 0) return Promise.resolve(this.take());
    if (this.ended) return Promise.resolve(null);
    if (this.consumer) return Promise.reject(new EddyError(ErrorCode.InternalError, "chained operator called input.next() again before the previous call resolved"));
    return new Promise<InputBatch | null>((resolve, reject) => {
      this.consumer = { resolve, reject };
    });
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
    this.buf = [];
    this.wakeProducer();
  }

  /** Detaches from the abort signal. */
  dispose(): void {
    this.signal.removeEventListener("abort", this.onAbort);
  }

  private pushBatch(): void {
    const records = this.buf;
    this.buf = [];
    const c = this.consumer;
    if (c) {
      // The downstream member is waiting, so the queue is empty: hand the batch over directly.
      this.consumer = undefined;
      this.batchesOut++;
      if (this.maxQueued === 0) this.maxQueued = 1;
      c.resolve({ gate: 0, channel: 0, records });
      return;
    }
    this.queue.push(records);
    if (this.queue.length > this.maxQueued) this.maxQueued = this.queue.length;
  }

  private take(): InputBatch {
    const records = this.queue.shift()!;
    this.batchesOut++;
    if (this.producer && this.queue.length < this.capacity) this.wakeProducer();
    return { gate: 0, channel: 0, records };
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
    p.catch(() => undefined);
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
