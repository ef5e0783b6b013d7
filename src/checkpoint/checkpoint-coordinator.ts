/**
 * The JobMaster's CheckpointCoordinator (Flink's): triggers checkpoints periodically (interval,
 * minimum pause, maximum concurrent), sends the trigger to the source tasks, collects every task's
 * acknowledgement, completes the checkpoint into the CompletedCheckpointStore (subsuming older
 * ones), tells the tasks, and aborts checkpoints that time out, are declined, or are overtaken by a
 * failover. Savepoints are checkpoints of kind SAVEPOINT, kept in the SavepointStore instead.
 */
import type { Logger } from "../core/logger.js";
import type { CheckpointingConfig } from "../jobgraph/types.js";
import type { Execution } from "../executiongraph/execution.js";
import type { ExecutionGraph } from "../executiongraph/execution-graph.js";
import type { CompletedCheckpoint, SnapshotKind, SubtaskStateSnapshot } from "./types.js";

/** What the coordinator stands on; the JobMaster provides it. */
export interface CheckpointCoordinatorContext {
  nextCheckpointId(): Promise<number>;
  /** Persists a completed checkpoint (and subsumes older ones) or a savepoint. */
  complete(cp: CompletedCheckpoint): Promise<void>;
  /** Deletes the state objects a failed checkpoint may have written. */
  discard(checkpointId: number, kind: SnapshotKind): void;
  triggerTask(e: Execution, checkpointId: number, timestamp: number, kind: SnapshotKind, stop: boolean): void;
  notifyComplete(e: Execution, checkpointId: number): void;
  notifyAborted(e: Execution, checkpointId: number): void;
  /** Too many failed checkpoints in a row: fail the job. */
  failJob(reason: string): void;
  /** Schedules `fn` in the JobMaster's mailbox; returns a cancel function. */
  schedule(ms: number, fn: () => void): () => void;
}

interface PendingCheckpoint {
  id: number;
  kind: SnapshotKind;
  timestamp: number;
  waiting: Set<string>;
  acks: Map<string, SubtaskStateSnapshot>;
  cancelTimeout: () => void;
  done: (r: { ok: true; checkpoint: CompletedCheckpoint } | { ok: false; reason: string }) => void;
}

/** Checkpoint statistics for `eddy status`. */
export interface CheckpointStats {
  completed: number;
  failed: number;
  latest: { id: number; durationMs: number; bytes: number } | null;
}

export class CheckpointCoordinator {
  private readonly pending = new Map<number, PendingCheckpoint>();
  private periodic: (() => void) | undefined;
  private lastCompletion = 0;
  private consecutiveFailures = 0;
  private stopped = false;
  private triggering = false;
  readonly stats: CheckpointStats = { completed: 0, failed: 0, latest: null };
  private readonly cfg: Required<CheckpointingConfig>;

  constructor(
    private readonly graph: ExecutionGraph,
    config: CheckpointingConfig,
    private readonly ctx: CheckpointCoordinatorContext,
    private readonly log: Logger,
    /** The latest completed checkpoint (restores start from it). */
    public latest: CompletedCheckpoint | undefined,
  ) {
    this.cfg = {
      intervalMs: config.intervalMs,
      timeoutMs: config.timeoutMs ?? 600_000,
      minPauseMs: config.minPauseMs ?? 0,
      maxConcurrent: config.maxConcurrent ?? 1,
      tolerableFailures: config.tolerableFailures ?? 0,
      retain: config.retain ?? 1,
    };
  }

  /** Starts periodic triggering. */
  start(): void {
    this.scheduleNext(this.cfg.intervalMs);
  }

  /** Stops triggering and aborts what is in flight. */
  stop(reason: string): void {
    this.stopped = true;
    this.periodic?.();
    this.periodic = undefined;
    this.abortAll(reason);
  }

  /** Pauses periodic checkpoints (while a savepoint is taken). */
  stopPeriodic(): void {
    this.periodic?.();
    this.periodic = undefined;
    this.paused = true;
  }

  /** Resumes periodic checkpoints. */
  resumePeriodic(): void {
    this.paused = false;
    if (!this.periodic && !this.stopped) this.scheduleNext(this.cfg.intervalMs);
  }

  private paused = false;

  /** Aborts every pending checkpoint (a failover reset the tasks that were taking them). */
  abortAll(reason: string): void {
    for (const p of [...this.pending.values()]) this.abort(p, reason, false);
  }

  /**
   * Triggers a checkpoint (or savepoint) now. Resolves with the completed checkpoint; rejects with
   * the reason when it cannot be taken or fails. With `stop` (stop-with-savepoint) the sources end
   * right after the barrier, so the job drains to FINISHED with nothing after the savepoint.
   */
  async trigger(kind: SnapshotKind, opts: { stop?: boolean } = {}): Promise<CompletedCheckpoint> {
    const tasks = [...this.graph.currentExecutions()];
    if (this.graph.state !== "RUNNING" || tasks.some((e) => e.state !== "RUNNING"))
      throw new Error("not every task is RUNNING; the checkpoint was not triggered");
    if (kind === "CHECKPOINT" && this.pending.size >= this.cfg.maxConcurrent) throw new Error("too many checkpoints in flight");
    const id = await this.ctx.nextCheckpointId();
    if (this.stopped) throw new Error("the coordinator stopped");
    const timestamp = Date.now();
    return new Promise<CompletedCheckpoint>((resolve, reject) => {
      const p: PendingCheckpoint = {
        id,
        kind,
        timestamp,
        waiting: new Set(tasks.map((e) => e.attemptId)),
        acks: new Map(),
        cancelTimeout: this.ctx.schedule(this.cfg.timeoutMs, () => this.abort(p, `timed out after ${this.cfg.timeoutMs} ms`, true)),
        done: (r) => (r.ok ? resolve(r.checkpoint) : reject(new Error(r.reason))),
      };
      this.pending.set(id, p);
      this.log.debug({ checkpointId: id, kind, tasks: tasks.length }, "checkpoint triggered");
      for (const e of tasks) if (e.vertex.consumedPartitionGroups.length === 0) this.ctx.triggerTask(e, id, timestamp, kind, opts.stop === true);
    });
  }

  /** A task acknowledged: when all did, the checkpoint completes. */
  acknowledge(attemptId: string, checkpointId: number, snapshot: SubtaskStateSnapshot): void {
    const p = this.pending.get(checkpointId);
    if (!p || !p.waiting.delete(attemptId)) return; // late, duplicate, or from an attempt no longer current
    p.acks.set(attemptId, snapshot);
    if (p.waiting.size === 0) void this.complete(p);
  }

  /** A task could not take the checkpoint. */
  decline(attemptId: string, checkpointId: number, reason: string): void {
    const p = this.pending.get(checkpointId);
    if (p && p.waiting.has(attemptId)) this.abort(p, `declined by a task: ${reason}`, true);
  }

  private async complete(p: PendingCheckpoint): Promise<void> {
    p.cancelTimeout();
    const vertices: CompletedCheckpoint["vertices"] = {};
    let bytes = 0;
    for (const e of this.graph.currentExecutions()) {
      const ack = p.acks.get(e.attemptId);
      if (!ack) continue;
      const ejv = e.vertex.jobVertex;
      for (const [opId, state] of Object.entries(ack.operators)) {
        const v = (vertices[opId] ??= { parallelism: ejv.parallelism, maxParallelism: ejv.maxParallelism, subtasks: [] });
        v.subtasks[e.vertex.subtaskIndex] = { operators: { [opId]: state } };
        bytes += (state.keyed?.bytes ?? 0) + (state.operator?.bytes ?? 0) + (state.raw?.bytes ?? 0);
      }
    }
    const cp: CompletedCheckpoint = {
      jobId: this.graph.jobId,
      checkpointId: p.id,
      kind: p.kind,
      timestamp: p.timestamp,
      completedAt: Date.now(),
      formatVersion: 1,
      vertices,
      bytes,
    };
    try {
      await this.ctx.complete(cp);
    } catch (err) {
      return this.abort(p, `storing the checkpoint failed: ${(err as Error).message}`, true);
    }
    if (this.pending.get(p.id) !== p) return;
    this.pending.delete(p.id);
    if (p.kind === "CHECKPOINT") this.latest = cp;
    this.lastCompletion = Date.now();
    this.consecutiveFailures = 0;
    this.stats.completed++;
    this.stats.latest = { id: p.id, durationMs: cp.completedAt - cp.timestamp, bytes };
    this.log.info({ checkpointId: p.id, kind: p.kind, durationMs: cp.completedAt - cp.timestamp, bytes }, "checkpoint completed");
    for (const e of this.graph.currentExecutions()) if (!e.isTerminal) this.ctx.notifyComplete(e, p.id);
    p.done({ ok: true, checkpoint: cp });
  }

  private abort(p: PendingCheckpoint, reason: string, countsAsFailure: boolean): void {
    if (this.pending.get(p.id) !== p) return;
    this.pending.delete(p.id);
    p.cancelTimeout();
    this.stats.failed++;
    this.log.warn({ checkpointId: p.id, reason }, "checkpoint aborted");
    for (const e of this.graph.currentExecutions()) if (!e.isTerminal) this.ctx.notifyAborted(e, p.id);
    this.ctx.discard(p.id, p.kind);
    p.done({ ok: false, reason });
    if (countsAsFailure && p.kind === "CHECKPOINT" && ++this.consecutiveFailures > this.cfg.tolerableFailures)
      this.ctx.failJob(`${this.consecutiveFailures} checkpoint(s) failed in a row (tolerable: ${this.cfg.tolerableFailures}); last: ${reason}`);
  }

  private scheduleNext(ms: number): void {
    if (this.stopped || this.paused) return;
    this.periodic = this.ctx.schedule(ms, () => void this.periodicTrigger());
  }

  private async periodicTrigger(): Promise<void> {
    this.periodic = undefined;
    if (this.stopped) return;
    const sincePause = Date.now() - this.lastCompletion;
    if (this.triggering || this.pending.size >= this.cfg.maxConcurrent || sincePause < this.cfg.minPauseMs) {
      return this.scheduleNext(Math.max(10, this.cfg.minPauseMs - sincePause));
    }
    this.triggering = true;
    this.scheduleNext(this.cfg.intervalMs);
    try {
      await this.trigger("CHECKPOINT");
    } catch (err) {
      this.log.debug({ reason: (err as Error).message }, "periodic checkpoint not taken");
    } finally {
      this.triggering = false;
    }
  }
}
