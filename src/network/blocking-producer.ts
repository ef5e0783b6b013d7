/**
 * The producer side of BLOCKING result partitions: the subpartitions of a BLOCKING partition batch
 * records exactly as for PIPELINED ones, but each finished buffer goes to JetStream as a DATA frame
 * on the subpartition's subject, followed by one END_OF_PARTITION frame (frame.ts, sequence numbers
 * from 0). Publishes are asynchronous with a bounded number awaiting their ack: that bound is the
 * producer's backpressure, and `finish()` resolves only once every frame is acknowledged (durable).
 *
 * A producer released before its end (failed, canceled) drops what is not yet sent and, if it can
 * still reach NATS, appends an ERROR frame; either way the subpartition never gets its END, so no
 * consumer ever takes it as complete.
 */
import { EddyError, ErrorCode, toEddyError } from "../core/errors.js";
import { deferred, type Deferred } from "../core/time.js";
import type { NetworkConfig } from "./config.js";
import { encodeDataFrame, encodeEndFrame, encodeErrorFrame, stampDataFrame } from "./frame.js";
import { RingQueue } from "./ring-queue.js";
import type { BlockingStore } from "./blocking-store.js";
import type { ResultPartition } from "./record-writer.js";
import type { RecordBuffer, SubpartitionReader } from "./subpartition.js";
import { BarrierError, type NetworkEvent } from "../core/stream-events.js";

/** What the publisher tells its producer's output. */
export interface BlockingPublisherOwner {
  /** The bound of unacknowledged publishes was reached (true) or left (false). */
  onFull(full: boolean): void;
  /** A publish failed: the output fails. */
  fail(err: unknown): Error;
}

/** Counters of a {@link BlockingPublisher}. */
export interface BlockingPublisherStats {
  /** Frames handed to JetStream. */
  published: number;
  /** Frames acknowledged by JetStream. */
  acked: number;
  /** Most publishes awaiting their ack at one time (never above `blockingMaxPendingPublishes`). */
  maxOutstanding: number;
  /** Most frames waiting behind the bound at one time. */
  maxQueued: number;
  /** Bytes of DATA frames published, per result id (what adaptive batch scheduling sizes consumers by). */
  bytes: Record<string, number>;
}

/**
 * The accumulator name under which a FINISHED task reports the bytes it produced into a BLOCKING
 * result (the JobMaster reads it for adaptive batch scheduling and leaves it out of the JobResult).
 */
export const PRODUCED_BYTES_ACCUMULATOR = "eddy.producedBytes.";

/** A subpartition needs no consumer credit on JetStream: only the publisher's bound holds it back. */
const UNLIMITED_CREDIT = Number.MAX_SAFE_INTEGER;

/** Producer side of one BLOCKING subpartition: hands its frames to the publisher. */
class JetStreamReader implements SubpartitionReader {
  readonly adaptive = true;
  constructor(
    private readonly pub: BlockingPublisher,
    private readonly subject: string,
    private readonly index: number,
    private readonly resultId: string,
  ) {}
  get maxFrameBytes(): number {
    return this.pub.maxFrameBytes;
  }
  sendData(buffer: RecordBuffer, seq: number): number {
    return this.sendFrame(encodeDataFrame(this.index, seq, buffer.records, 0, buffer.marks), seq);
  }
  sendFrame(frame: Uint8Array, seq: number): number {
    if (frame.length > this.pub.maxFrameBytes) return -frame.length;
    stampDataFrame(frame, this.index, seq, 0);
    this.pub.send(this.subject, frame);
    this.pub.stats.bytes[this.resultId] = (this.pub.stats.bytes[this.resultId] ?? 0) + frame.length;
    return frame.length;
  }
  sendEnd(seq: number): void {
    this.pub.send(this.subject, encodeEndFrame(this.index, seq));
  }
  sendError(err: EddyError, seq: number): void {
    this.pub.abandon(this.subject, encodeErrorFrame(this.index, seq, err));
  }
  /** Never called: BLOCKING partitions carry no checkpoint events (ResultPartition.addEvent skips them). */
  sendEvent(event: NetworkEvent): void {
    void event;
    throw new BarrierError(`BLOCKING subpartition ${this.subject} cannot carry checkpoint events`);
  }
  close(): void {}
}

/** Publishes the frames of one producer attempt's BLOCKING partitions to its job's stream. */
export class BlockingPublisher {
  readonly stats: BlockingPublisherStats = { published: 0, acked: 0, maxOutstanding: 0, maxQueued: 0, bytes: {} };
  /** Largest frame this publisher sends (the configured cap, below the server's max_payload). */
  readonly maxFrameBytes: number;
  private readonly queue = new RingQueue<[string, Uint8Array]>();
  private readonly max: number;
  private inflight = 0;
  private ready = false;
  private full = false;
  private failure: Error | null = null;
  private closed = false;
  private abandoned = false;
  private idle: Array<Deferred<void>> = [];

  constructor(
    private readonly store: BlockingStore,
    readonly jobId: string,
    readonly producerAttemptId: string,
    private readonly owner: BlockingPublisherOwner,
    cfg: NetworkConfig,
  ) {
    this.max = Math.max(1, Math.floor(cfg.blockingMaxPendingPublishes));
    const serverMax = store.nc.info?.max_payload;
    this.maxFrameBytes = serverMax ? Math.min(cfg.maxFrameBytes, serverMax - 1024) : cfg.maxFrameBytes;
    store.ensureStream(jobId).then(
      () => {
        this.ready = true;
        this.pump();
      },
      (err: unknown) => this.onFailure(err),
    );
  }

  /** Publishes every subpartition of `partition` (a BLOCKING one) from now on. */
  attach(partition: ResultPartition): void {
    const { resultId } = partition.desc;
    for (const sub of partition.subpartitions) {
      const subject = this.store.subjects.blockingSubpartition(this.jobId, this.producerAttemptId, resultId, sub.index);
      sub.attach(new JetStreamReader(this, subject, sub.index, resultId), UNLIMITED_CREDIT);
    }
  }

  /** Frames handed over and not yet acknowledged (sent or waiting). */
  get outstanding(): number {
    return this.inflight + this.queue.length;
  }

  /** Queues one frame; it is published as soon as the bound allows. */
  send(subject: string, frame: Uint8Array): void {
    if (this.closed || this.abandoned) return;
    this.queue.push([subject, frame]);
    if (this.queue.length > this.stats.maxQueued) this.stats.maxQueued = this.queue.length;
    this.pump();
    this.updateFull();
  }

  /**
   * The producer went away before its end: drops what is not yet sent and appends `errorFrame`
   * (best effort, unacknowledged) after what is. Later frames are ignored.
   */
  abandon(subject: string, errorFrame: Uint8Array): void {
    if (!this.abandoned) {
      this.abandoned = true;
      while (this.queue.length > 0) this.queue.shift();
      this.updateFull();
    }
    if (!this.ready || this.store.nc.isClosed()) return;
    try {
      this.store.nc.publish(subject, errorFrame);
    } catch {
      // the connection is going away: the subpartition stays without END all the same
    }
  }

  /** Resolves once every frame handed over is acknowledged; rejects if a publish failed. */
  drained(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.outstanding === 0) return Promise.resolve();
    const d = deferred<void>();
    this.idle.push(d);
    return d.promise;
  }

  /** Stops publishing; acknowledgements still on their way are ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    while (this.queue.length > 0) this.queue.shift();
    const err = new EddyError(ErrorCode.Shutdown, `BLOCKING output of ${this.producerAttemptId} was released`);
    const ws = this.idle;
    this.idle = [];
    for (const w of ws) w.reject(err);
  }

  private pump(): void {
    if (!this.ready || this.closed || this.failure !== null) return;
    while (this.inflight < this.max && this.queue.length > 0) {
      const [subject, frame] = this.queue.shift()!;
      this.inflight++;
      this.stats.published++;
      if (this.inflight > this.stats.maxOutstanding) this.stats.maxOutstanding = this.inflight;
      this.store.js.publish(subject, frame).then(
        () => this.onAck(),
        (err: unknown) => this.onFailure(err),
      );
    }
    if (this.inflight === 0 && this.queue.length === 0) this.wakeIdle();
  }

  private onAck(): void {
    if (this.closed) return;
    this.inflight--;
    this.stats.acked++;
    this.pump();
    this.updateFull();
  }

  private onFailure(err: unknown): void {
    if (this.closed || this.failure !== null) return;
    const e = new EddyError(
      ErrorCode.TaskFailed,
      `cannot store BLOCKING partition data of ${this.producerAttemptId} in JetStream: ${(err as Error)?.message ?? String(err)}`,
      {
        cause: toEddyError(err),
      },
    );
    this.failure = e;
    this.owner.fail(e);
    const ws = this.idle;
    this.idle = [];
    for (const w of ws) w.reject(e);
  }

  private wakeIdle(): void {
    const ws = this.idle;
    this.idle = [];
    for (const w of ws) w.resolve();
  }

  private updateFull(): void {
    const full = !this.abandoned && !this.closed && this.outstanding >= this.max;
    if (full !== this.full) {
      this.full = full;
      this.owner.onFull(full);
    }
  }
}
