/**
 * The producer side of a task: one {@link ResultPartition} per output descriptor and a
 * {@link RecordWriterOutput} fanning each record out to all of them (Flink's RecordWriter).
 */
import type { ResultPartitionDeploymentDescriptor } from "../deployment/descriptors.js";
import type { CheckpointableOutput } from "../runtime/api.js";
import type { CheckpointBarrier } from "../core/stream-events.js";
import { EddyError, ErrorCode, toEddyError } from "../core/errors.js";
import { deferred, type Deferred } from "../core/time.js";
import { DEFAULT_BUFFER_RECORDS, type NetworkConfig } from "./config.js";
import { BROADCAST, BroadcastPartitioner, createPartitioner, type Partitioner } from "./partitioner.js";
import type { IoTimer } from "./io-timer.js";
import { ResultSubpartition, type SubpartitionOwner } from "./subpartition.js";
import { BarrierError, checkBarrier, checkCheckpointId, copyBarrier, type NetworkEvent } from "../core/stream-events.js";

/** One output of a producer subtask: its subpartitions and partitioner. */
export class ResultPartition {
  readonly subpartitions: ResultSubpartition[];
  private readonly partitioner: Partitioner;

  constructor(
    readonly producerAttemptId: string,
    readonly desc: ResultPartitionDeploymentDescriptor,
    owner: SubpartitionOwner,
    bufferRecords: number,
    keySelector?: (record: unknown) => unknown,
  ) {
    this.partitioner = createPartitioner(keySelector ? { ...desc, key: keySelector } : desc);
    this.subpartitions = [];
    for (let i = 0; i < desc.numSubpartitions; i++) {
      const name = `${desc.resultId}#${desc.partitionIndex}.${i}@${producerAttemptId}`;
      this.subpartitions.push(new ResultSubpartition(i, name, owner, bufferRecords));
    }
  }

  /** Routes one record (hot path). */
  emit(record: unknown): void {
    const i = this.partitioner.select(record);
    if (i !== BROADCAST) {
      this.subpartitions[i]!.add(record);
    } else {
      const subs = this.subpartitions;
      for (let j = 0; j < subs.length; j++) subs[j]!.add(record);
    }
  }

  /** Records emitted into this partition and sent (each once, also when broadcast to every subpartition). */
  get recordsSent(): number {
    const subs = this.subpartitions;
    if (this.partitioner instanceof BroadcastPartitioner) return subs[0]?.recordsSent ?? 0;
    let n = 0;
    for (let i = 0; i < subs.length; i++) n += subs[i]!.recordsSent;
    return n;
  }

  /** The fullest subpartition's backlog as a share of the backlog bound (0..1). */
  backlogUsage(maxBacklog: number): number {
    let most = 0;
    for (const s of this.subpartitions) if (s.backlog > most) most = s.backlog;
    return Math.min(1, most / Math.max(1, maxBacklog));
  }

  /** Finishes every non-empty buffer. */
  flush(): void {
    for (const s of this.subpartitions) s.finishBuffer();
  }

  /** True when this partition carries checkpoint events (PIPELINED; BLOCKING ones are never checkpointed). */
  get carriesEvents(): boolean {
    return this.desc.partitionType !== "BLOCKING";
  }

  /** Puts watermark `w` into every subpartition's current buffer (PIPELINED partitions only). */
  addWatermark(w: number): void {
    if (!this.carriesEvents) return;
    const subs = this.subpartitions;
    for (let i = 0; i < subs.length; i++) subs[i]!.addWatermark(w);
  }

  /** Flushes and queues `event` on every subpartition (PIPELINED partitions only). */
  addEvent(event: NetworkEvent): void {
    if (!this.carriesEvents) return;
    for (const s of this.subpartitions) s.addEvent(event);
  }

  /** Flushes and queues END_OF_PARTITION on every subpartition. */
  end(): void {
    for (const s of this.subpartitions) s.end();
  }

  /** Drops all buffers; attached consumers that did not see the end get `err`. */
  release(err: EddyError): void {
    for (const s of this.subpartitions) s.release(err);
  }
}

/** Options of {@link RecordWriterOutput}. */
export interface OutputOptions {
  /** Flush interval of partial buffers: > 0 periodic, 0 as soon as possible, < 0 only when full. */
  bufferTimeoutMs: number;
  /** Records per buffer (upper bound); default 1024. */
  bufferRecords?: number;
  /** Task cancellation: `available()` resolves, `finish()` rejects, `emit()` throws. */
  signal?: AbortSignal;
  /** The task's job: required for BLOCKING partitions (they are kept in the job's JetStream stream). */
  jobId?: string;
  /** The task's time accounting: waits in `available()` count as back-pressured. */
  timer?: IoTimer;
  /** The function of a key selector ref (a partition's `keySelector`), from the task's user code. */
  keySelector?: (ref: string) => (record: unknown) => unknown;
}

/** Counters of a {@link RecordWriterOutput}. */
export interface OutputStats {
  recordsSent: number;
  buffersSent: number;
  /** Encoded bytes sent (0 on same-thread links). */
  bytesSent: number;
  /** Largest backlog of finished, unsent buffers seen on any subpartition. */
  maxBacklog: number;
  /** Times `isAvailable()` turned false. */
  backpressureEvents: number;
  /** Barriers broadcast (one per call, whatever the number of subpartitions). */
  barriersBroadcast: number;
  /** Events (barriers, cancel markers) handed to links, counted per subpartition. */
  eventsSent: number;
}

/** The key selector of partition `d`; InvalidJobGraph when the task has no code to resolve it in. */
function selectorOf(d: ResultPartitionDeploymentDescriptor, opts: OutputOptions): (record: unknown) => unknown {
  if (!opts.keySelector) {
    throw new EddyError(
      ErrorCode.InvalidJobGraph,
      `result ${d.resultId} is keyed by the key selector "${d.keySelector}", but the task has no user code to find it in`,
    );
  }
  return opts.keySelector(d.keySelector!);
}

/** A task's {@link RecordOutput} over all of its result partitions. */
export class RecordWriterOutput implements CheckpointableOutput, SubpartitionOwner {
  readonly partitions: ResultPartition[];
  /** The partitions of each output: index 0 the main output, then the side outputs (desc.output). */
  private readonly byOutput: ResultPartition[][] = [];
  private readonly main: ResultPartition[];
  readonly stats: OutputStats = { recordsSent: 0, buffersSent: 0, bytesSent: 0, maxBacklog: 0, backpressureEvents: 0, barriersBroadcast: 0, eventsSent: 0 };
  /** The last watermark emitted (MIN_WATERMARK before any). */
  lastWatermark = Number.NEGATIVE_INFINITY;
  /** Called once every END_OF_PARTITION is handed to its link, before `finish()` resolves (e.g. a NATS flush). */
  afterEnd: (() => Promise<void> | void) | null = null;
  private failure: Error | null = null;
  private aborted = false;
  private fullCount = 0;
  private waiters: Array<Deferred<void>> = [];
  private endsPending = -1;
  private finishing: Deferred<void> | null = null;
  /** Flushes every partition within the buffer timeout of a buffer's first record; null while none waits. */
  private timer: NodeJS.Timeout | null = null;
  private flushScheduled = false;
  private readonly bufferTimeoutMs: number;
  private readonly onAbort = () => this.abort();

  constructor(
    readonly attemptId: string,
    descs: ResultPartitionDeploymentDescriptor[],
    readonly cfg: NetworkConfig,
    private readonly opts: OutputOptions,
  ) {
    const bufferRecords = opts.bufferRecords && opts.bufferRecords > 0 ? Math.floor(opts.bufferRecords) : DEFAULT_BUFFER_RECORDS;
    this.bufferTimeoutMs = opts.bufferTimeoutMs;
    this.partitions = descs.map((d) => new ResultPartition(attemptId, d, this, bufferRecords, d.keySelector === undefined ? undefined : selectorOf(d, opts)));
    for (const p of this.partitions) {
      const o = p.desc.output ?? 0;
      while (this.byOutput.length <= o) this.byOutput.push([]);
      this.byOutput[o]!.push(p);
    }
    this.main = this.byOutput[0] ?? [];
    if (opts.signal) {
      if (opts.signal.aborted) this.abort();
      else opts.signal.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  /** The partition of `resultId` with `partitionIndex`, if this task produces it. */
  findPartition(resultId: string, partitionIndex: number): ResultPartition | undefined {
    for (const p of this.partitions) if (p.desc.resultId === resultId && p.desc.partitionIndex === partitionIndex) return p;
    return undefined;
  }

  /** Emits `record` to the partitions of the main output. */
  emit(record: unknown): void {
    if (this.failure !== null) throw this.failure;
    const ps = this.main;
    if (ps.length === 1) ps[0]!.emit(record);
    else for (let i = 0; i < ps.length; i++) ps[i]!.emit(record);
  }

  /** Emits `record` to the partitions of side output `output` (1-based; 0 is the main output); none read it: dropped. */
  emitTo(output: number, record: unknown): void {
    if (this.failure !== null) throw this.failure;
    const ps = this.byOutput[output];
    if (ps !== undefined) for (let i = 0; i < ps.length; i++) ps[i]!.emit(record);
  }

  isAvailable(): boolean {
    return this.fullCount === 0 && this.failure === null;
  }

  available(): Promise<void> {
    if (this.aborted || this.fullCount === 0) return Promise.resolve();
    if (this.failure !== null) return Promise.reject(this.failure);
    const d = deferred<void>();
    if (this.waiters.length === 0) this.opts.timer?.backPressureStart();
    this.waiters.push(d);
    return d.promise;
  }

  /** Records the task emitted and sent, counted per buffer (each output's first partition: every record of an output goes to each of its partitions). */
  get recordsSent(): number {
    let n = 0;
    for (const ps of this.byOutput) n += ps[0]?.recordsSent ?? 0;
    return n;
  }

  /** The fullest subpartition's backlog as a share of its bound (0..1): Flink's outPoolUsage. */
  get outPoolUsage(): number {
    let most = 0;
    for (const p of this.partitions) most = Math.max(most, p.backlogUsage(this.cfg.maxBacklogBuffers));
    return most;
  }

  flush(): void {
    if (this.failure !== null) throw this.failure;
    for (const p of this.partitions) p.flush();
    // Nothing is left for the buffer timeout to send: an idle task is not woken for nothing.
    this.stopTimer();
  }

  /** True while a partial buffer waits for the buffer timeout. */
  get bufferTimerArmed(): boolean {
    return this.timer !== null;
  }

  /**
   * Flushes every subpartition and appends `barrier` behind its data, on every PIPELINED output
   * (BLOCKING outputs carry no barriers). Never waits: the barrier goes out without credit once the
   * buffers before it are sent, also to consumers not connected yet. Throws BarrierError after
   * `finish()` or for a malformed barrier, and the output's failure once it failed.
   */
  broadcastBarrier(barrier: CheckpointBarrier): void {
    checkBarrier(barrier);
    this.checkOpenForEvents(`barrier ${barrier.checkpointId}`);
    const marker = { barrier: copyBarrier(barrier) };
    this.stats.barriersBroadcast++;
    this.broadcastEvent(marker);
  }

  /** Appends a cancel marker for `checkpointId` behind the data of every PIPELINED subpartition; as {@link broadcastBarrier}. */
  broadcastCancelMarker(checkpointId: number): void {
    checkCheckpointId(checkpointId);
    this.checkOpenForEvents(`cancel marker ${checkpointId}`);
    this.broadcastEvent({ cancel: checkpointId });
  }

  /**
   * Puts an event-time watermark into the current buffer of every PIPELINED subpartition, after the
   * records emitted so far (BLOCKING ones carry none: their consumers see the end of input, which
   * stands for the final watermark). It goes out with its buffer, as in Flink: when the buffer is full,
   * flushed or its timeout passes. Ignored after `finish()`; throws for NaN.
   */
  emitWatermark(watermark: number): void {
    if (Number.isNaN(watermark)) throw new BarrierError(`output of ${this.attemptId}: watermark is NaN`);
    if (this.failure !== null) throw this.failure;
    if (this.finishing !== null) return;
    this.lastWatermark = watermark;
    try {
      const ps = this.partitions;
      for (let i = 0; i < ps.length; i++) ps[i]!.addWatermark(watermark);
    } catch (err) {
      throw this.fail(err);
    }
  }

  async finish(): Promise<void> {
    if (this.failure !== null) throw this.failure;
    if (this.finishing === null) {
      this.finishing = deferred<void>();
      this.stopTimer();
      this.endsPending = 0;
      for (const p of this.partitions) this.endsPending += p.subpartitions.length;
      const pending = this.finishing;
      try {
        for (const p of this.partitions) p.end();
      } catch (err) {
        this.fail(err);
      }
      if (this.endsPending === 0) pending.resolve();
    }
    await this.finishing.promise;
    if (this.afterEnd) await this.afterEnd();
  }

  /** True once `finish()` handed END_OF_PARTITION to every link. */
  get finished(): boolean {
    return this.endsPending === 0;
  }

  /** Stops the timer and drops all buffers; consumers not yet at the end are told the producer went away. */
  release(): void {
    this.stopTimer();
    this.opts.signal?.removeEventListener("abort", this.onAbort);
    const err = new EddyError(ErrorCode.TaskFailed, `producer ${this.attemptId} released its result partitions before their end`);
    for (const p of this.partitions) p.release(err);
    this.fail(new EddyError(ErrorCode.Shutdown, `output of ${this.attemptId} was released`));
  }

  // ---- SubpartitionOwner ----

  onBufferStarted(): void {
    if (this.bufferTimeoutMs === 0) this.scheduleFlush();
    else if (this.bufferTimeoutMs > 0 && this.timer === null && this.failure === null) {
      // One timer for every partition: what started within the timeout goes out together.
      this.timer = setTimeout(this.onBufferTimeout, this.bufferTimeoutMs);
      this.timer.unref();
    }
  }

  private readonly onBufferTimeout = () => {
    this.timer = null;
    this.flushQuietly();
  };

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushQuietly();
    });
  }

  onFull(full: boolean): void {
    if (full) {
      if (this.fullCount++ === 0) this.stats.backpressureEvents++;
    } else if (--this.fullCount === 0) {
      this.wake();
    }
  }

  onBuffer(backlog: number): void {
    if (backlog > this.stats.maxBacklog) this.stats.maxBacklog = backlog;
  }

  onSent(records: number, bytes: number): void {
    this.stats.recordsSent += records;
    this.stats.buffersSent++;
    this.stats.bytesSent += bytes;
  }

  onEventSent(): void {
    this.stats.eventsSent++;
  }

  onEndSent(): void {
    if (--this.endsPending === 0) this.finishing?.resolve();
  }

  fail(err: unknown): Error {
    if (this.failure !== null) return this.failure;
    const e = err instanceof Error && (err as { name?: string }).name === "AbortError" ? err : toEddyError(err);
    this.failure = e;
    this.stopTimer();
    const ws = this.waiters;
    this.waiters = [];
    if (ws.length > 0) this.opts.timer?.backPressureEnd();
    for (const w of ws) w.reject(e);
    this.finishing?.reject(e);
    this.finishing?.promise.catch(() => undefined); // rejected for whoever awaits it; unawaited it must not be unhandled
    return e;
  }

  private checkOpenForEvents(what: string): void {
    if (this.failure !== null) throw this.failure;
    if (this.finishing !== null) throw new BarrierError(`output of ${this.attemptId}: ${what} after finish()`);
  }

  private broadcastEvent(event: NetworkEvent): void {
    try {
      for (const p of this.partitions) p.addEvent(event);
    } catch (err) {
      throw this.fail(err);
    }
  }

  private abort(): void {
    const reason = this.opts.signal?.reason;
    this.aborted = true;
    this.wake();
    this.fail(reason instanceof Error ? reason : new EddyError(ErrorCode.Shutdown, `task ${this.attemptId} was canceled`));
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    if (ws.length > 0) this.opts.timer?.backPressureEnd();
    for (const w of ws) w.resolve();
  }

  private flushQuietly(): void {
    if (this.failure !== null) return;
    try {
      for (const p of this.partitions) p.flush();
    } catch (err) {
      this.fail(err);
    }
  }

  private stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
