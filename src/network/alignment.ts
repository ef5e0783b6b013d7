/**
 * Exactly-once barrier alignment over all channels of a task (Flink's SingleCheckpointBarrierHandler
 * in aligned mode), used by {@link UnionInput}:
 *
 * - The first barrier of checkpoint n starts aligning n. A channel that delivered barrier n is held:
 *   its later buffers stay queued (and keep their credits, which backpressures its producer).
 * - Once every channel delivered barrier n or is drained (ended, everything taken), one
 *   `{barrier}` event is queued for the task, ahead of everything else, and the held channels resume.
 * - Barrier m > n before n is aligned: n is aborted (`{abort: n, reason: "SUBSUMED"}`), m starts.
 * - Barriers of checkpoints already completed, aborted or subsumed are ignored.
 * - A cancel marker for n (Flink's CancelCheckpointMarker) aborts n (`reason: "CANCELED"`), also when
 *   n's alignment had not started, so later barriers of n are ignored; the abort event comes once.
 * - `abort(n)` from the runtime releases an alignment of n or older without an event.
 */
import type { BarrierEvent, CheckpointAbortEvent, CheckpointAbortReason, CheckpointBarrier } from "../core/stream-events.js";

/** What the aligner reads and sets on a channel. */
export interface AlignedChannel {
  /** Delivered the barrier being aligned: held until alignment ends. */
  blocked: boolean;
  /** Ended and everything queued was taken: counts as aligned. */
  readonly drained: boolean;
}

/** The aligner's view of its input. */
export interface AlignerHost<C> {
  /** Number of channels of the task (all gates). */
  readonly channelCount: number;
  /** Queues a checkpoint event for the task, ahead of any later batch. */
  emit(event: BarrierEvent | CheckpointAbortEvent): void;
  /** `ch` is not held any more: make its queued entries readable again. */
  unblock(ch: C): void;
}

/** Counters of a {@link BarrierAligner}. */
export interface AlignmentStats {
  barriersReceived: number;
  cancelMarkersReceived: number;
  /** Checkpoints whose barrier event was emitted. */
  aligned: number;
  /** Checkpoints aborted while aligning or by a cancel marker (not by `abort()`). */
  aborted: number;
  /** Time from the first to the last barrier of the last aligned checkpoint, ms. */
  lastAlignmentMs: number;
  maxAlignmentMs: number;
}

interface Pending<C> {
  barrier: CheckpointBarrier;
  held: C[];
  /** Channels that delivered the barrier or are drained. */
  aligned: number;
  startedAt: number;
}

/** Aligns the barriers of one task's channels; see the module comment. */
export class BarrierAligner<C extends AlignedChannel> {
  readonly stats: AlignmentStats = { barriersReceived: 0, cancelMarkersReceived: 0, aligned: 0, aborted: 0, lastAlignmentMs: 0, maxAlignmentMs: 0 };
  private pending: Pending<C> | null = null;
  /** Highest checkpoint id started, completed or aborted: barriers up to it are stale. */
  private latest = -1;
  private drainedCount = 0;

  constructor(private readonly host: AlignerHost<C>) {}

  /** The checkpoint being aligned, or null. */
  get pendingCheckpoint(): number | null {
    return this.pending?.barrier.checkpointId ?? null;
  }

  /** Channels held now. */
  get heldChannels(): number {
    return this.pending?.held.length ?? 0;
  }

  /** `ch` delivered `barrier` (it was not held, and everything before the barrier was taken). */
  onBarrier(ch: C, barrier: CheckpointBarrier): void {
    this.stats.barriersReceived++;
    const id = barrier.checkpointId;
    let p = this.pending;
    if (p === null || id !== p.barrier.checkpointId) {
      if (id <= this.latest) return;
      if (p !== null) this.abortPending("SUBSUMED", true);
      this.latest = id;
      p = this.pending = { barrier, held: [], aligned: this.drainedCount, startedAt: Date.now() };
    }
    if (ch.blocked) return;
    ch.blocked = true;
    p.held.push(ch);
    p.aligned++;
    this.checkComplete();
  }

  /** `ch` delivered a cancel marker for `checkpointId`. */
  onCancelMarker(checkpointId: number): void {
    this.stats.cancelMarkersReceived++;
    const p = this.pending;
    if (p !== null && p.barrier.checkpointId === checkpointId) {
      this.abortPending("CANCELED", true);
      return;
    }
    if (checkpointId <= this.latest) return;
    if (p !== null) this.abortPending("SUBSUMED", true);
    this.latest = checkpointId;
    this.stats.aborted++;
    this.host.emit({ abort: checkpointId, reason: "CANCELED" });
  }

  /** `ch` just became drained (call once per channel). */
  onDrained(ch: C): void {
    this.drainedCount++;
    const p = this.pending;
    if (p !== null && !ch.blocked) {
      p.aligned++;
      this.checkComplete();
    }
  }

  /**
   * The runtime gave up checkpoint `checkpointId`: an alignment of it (or of an older one) is released
   * without an event, and barriers up to `checkpointId` are ignored from now on. True when one was released.
   */
  abort(checkpointId: number): boolean {
    const p = this.pending;
    let released = false;
    if (p !== null && p.barrier.checkpointId <= checkpointId) {
      this.abortPending("CANCELED", false);
      released = true;
    }
    if (checkpointId > this.latest) this.latest = checkpointId;
    return released;
  }

  private checkComplete(): void {
    const p = this.pending!;
    if (p.aligned < this.host.channelCount) return;
    const ms = Date.now() - p.startedAt;
    this.stats.aligned++;
    this.stats.lastAlignmentMs = ms;
    if (ms > this.stats.maxAlignmentMs) this.stats.maxAlignmentMs = ms;
    this.host.emit({ barrier: p.barrier });
    this.release(p);
  }

  private abortPending(reason: CheckpointAbortReason, withEvent: boolean): void {
    const p = this.pending!;
    if (withEvent) {
      this.stats.aborted++;
      this.host.emit({ abort: p.barrier.checkpointId, reason });
    }
    this.release(p);
  }

  private release(p: Pending<C>): void {
    this.pending = null;
    for (const ch of p.held) {
      ch.blocked = false;
      this.host.unblock(ch);
    }
  }
}
