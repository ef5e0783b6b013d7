/**
 * The JobMaster's CheckpointCoordinator (Flink's): triggers checkpoints periodically (interval,
 * minimum pause, maximum concurrent), sends the trigger to the source tasks, collects every task's
 * acknowledgement, completes the checkpoint into the CompletedCheckpointStore (subsuming older
 * ones), tells the tasks, and aborts checkpoints that time out, are declined, or are overtaken by a
 * failover. Savepoints are checkpoints of kind SAVEPOINT, kept in the SavepointStore instead.
 *
 * Checkpoints after tasks finished (Flink's FLIP-147): a checkpoint is taken while some tasks have
 * FINISHED. Its plan (Flink's CheckpointPlan) waits for every task that has not finished; it triggers
 * the sources and every task whose producers have all finished or reached their end of input (no
 * barrier can reach those in-band; they take the checkpoint at their end of input, or at an in-band
 * barrier if one comes first); a task that finishes while the checkpoint is pending counts as
 * finished. A completed checkpoint records finished subtasks and fully finished operators, which a
 * restore does not run again. A task that must commit on completion (a two-phase-commit sink) waits
 * at its end of input for a checkpoint taken there (its final checkpoint) before it finishes; it
 * reports its end of input, and a checkpoint is triggered right away for it.
 */
import type { Logger } from "../core/logger.js";
import type { CheckpointingConfig } from "../jobgraph/types.js";
import type { Execution } from "../executiongraph/execution.js";
import type { ExecutionGraph } from "../executiongraph/execution-graph.js";
import type { ConsumedPartitionGroup } from "../executiongraph/intermediate-result.js";
import type { CompletedCheckpoint, DeclineReason, SnapshotKind, SubtaskStateSnapshot } from "./types.js";
import { isPossiblyStored } from "./completed-checkpoint-store.js";
import { reportOverdue, type PendingCheckpoint } from "./pending-checkpoint.js";
import type { CheckpointStatsTracker } from "./checkpoint-stats-tracker.js";
import { checkpointingDefaults } from "./checkpointing-defaults.js";

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
  /** The operators (chain members, or the vertex itself) the task of `e` runs. */
  operatorIds(e: Execution): string[];
  /** Records each checkpoint's progress for the REST API. */
  statsTracker?: CheckpointStatsTracker;
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
  /** Attempts that said they finish (all their acknowledgements sent) and are not yet FINISHED here. */
  private readonly finishing = new Set<string>();
  /** Attempts that reported their end of input (they wait for a final checkpoint). */
  private readonly endedInput = new Set<string>();
  /** A task reached its end of input while a checkpoint was pending: trigger one as soon as possible. */
  private finalRequested = false;
  readonly stats: CheckpointStats = { completed: 0, failed: 0, latest: null };
  /** Checkpoints triggered and not yet completed or aborted (Flink's numberOfInProgressCheckpoints). */
  get numberOfInProgressCheckpoints(): number {
    return this.pending.size;
  }
  private readonly cfg: Required<CheckpointingConfig>;

  constructor(
    private readonly graph: ExecutionGraph,
    config: CheckpointingConfig,
    private readonly ctx: CheckpointCoordinatorContext,
    private readonly log: Logger,
    /** The latest completed checkpoint (restores start from it). */
    public latest: CompletedCheckpoint | undefined,
  ) {
    this.cfg = checkpointingDefaults(config);
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

  /**
   * Aborts every pending checkpoint (a failover reset the tasks that were taking them). One being
   * recorded is left to finish: its state is complete, and once its record lands it is the latest
   * checkpoint (the store may already have subsumed the one before); discarding its state then would
   * leave the job nothing to restore. The JobMaster's deployments wait for such a record.
   */
  abortAll(reason: string): void {
    for (const p of [...this.pending.values()]) if (!p.finalizing) this.abort(p, reason, false);
    for (const set of [this.endedInput, this.finishing]) {
      for (const id of [...set]) {
        const e = this.graph.execution(id);
        if (!e || e.isTerminal || e !== e.vertex.currentExecution) set.delete(id);
      }
    }
  }

  /**
   * Triggers a checkpoint (or savepoint) now. Resolves with the completed checkpoint; rejects with
   * the reason when it cannot be taken or fails. With `stop` (stop-with-savepoint) the sources end
   * right after the barrier, so the job drains to FINISHED with nothing after the savepoint.
   */
  async trigger(kind: SnapshotKind, opts: { stop?: boolean } = {}): Promise<CompletedCheckpoint> {
    this.plan();
    if (kind === "CHECKPOINT" && this.pending.size >= this.cfg.maxConcurrent) throw new Error("too many checkpoints in flight");
    const id = await this.ctx.nextCheckpointId();
    if (this.stopped) throw new Error("the coordinator stopped");
    // Tasks may have finished while the id was fetched: the plan is taken now.
    const { all, tasks } = this.plan();
    const timestamp = Date.now();
    return new Promise<CompletedCheckpoint>((resolve, reject) => {
      const p: PendingCheckpoint = {
        id,
        kind,
        timestamp,
        stop: opts.stop === true,
        waiting: new Set(tasks.map((e) => e.attemptId)),
        acks: new Map(),
        finished: new Set(all.filter((e) => this.isFinished(e)).map((e) => e.attemptId)),
        triggered: new Set(),
        cancelTimeout: this.ctx.schedule(this.cfg.timeoutMs, () => this.abort(p, `timed out after ${this.cfg.timeoutMs} ms`, true)),
        cancelOverdue: reportOverdue(() => (this.pending.get(id) === p ? p : undefined), {
          graph: this.graph,
          everyMs: Math.max(5_000, 10 * this.cfg.intervalMs),
          schedule: this.ctx.schedule,
          log: this.log,
        }),
        done: (r) => (r.ok ? resolve(r.checkpoint) : reject(new Error(r.reason))),
      };
      this.pending.set(id, p);
      this.ctx.statsTracker?.reportPending(id, kind, timestamp, all.length, p.finished.size);
      this.log.debug({ checkpointId: id, kind, tasks: tasks.length, finished: p.finished.size }, "checkpoint triggered");
      this.triggerEligible(p);
    });
  }

  /** Every current execution, and those not FINISHED (which must all be RUNNING). */
  private plan(): { all: Execution[]; tasks: Execution[] } {
    const all = [...this.graph.currentExecutions()];
    const tasks = all.filter((e) => !this.isFinished(e));
    if (this.graph.state !== "RUNNING" || tasks.some((e) => e.state !== "RUNNING"))
      throw new Error("not every unfinished task is RUNNING; the checkpoint was not triggered");
    if (tasks.length === 0) throw new Error("every task has finished; the checkpoint was not triggered");
    return { all, tasks };
  }

  /**
   * Sends the trigger to every waited-for task that no barrier can reach in-band: sources, and tasks
   * whose producers all finished or reached their end of input. Called at the trigger and whenever a
   * task finishes or reaches its end of input while the checkpoint is pending.
   */
  private triggerEligible(p: PendingCheckpoint): void {
    const memo = new Map<ConsumedPartitionGroup, boolean>();
    const producersDone = (g: ConsumedPartitionGroup): boolean => {
      let done = memo.get(g);
      if (done === undefined) {
        done = g.partitions.every((part) => {
          const pe = part.producer.currentExecution;
          return this.isFinished(pe) || this.endedInput.has(pe.attemptId);
        });
        memo.set(g, done);
      }
      return done;
    };
    for (const e of this.graph.currentExecutions()) {
      if (!p.waiting.has(e.attemptId) || p.triggered.has(e.attemptId)) continue;
      const groups = e.vertex.consumedPartitionGroups;
      if (groups.length > 0 && !groups.every(producersDone)) continue;
      p.triggered.add(e.attemptId);
      // Only sources stop after a stop-with-savepoint barrier.
      this.ctx.triggerTask(e, p.id, p.timestamp, p.kind, p.stop && groups.length === 0);
    }
  }

  /** FINISHED, or said it finishes (its state report may still be on its way). */
  private isFinished(e: Execution): boolean {
    return e.state === "FINISHED" || this.finishing.has(e.attemptId);
  }

  /** A task FINISHED (its TaskExecutor said so): the tasks it fed may now need a direct trigger. */
  producerFinished(attemptId: string): void {
    this.endedInput.delete(attemptId);
    this.finishing.delete(attemptId);
    for (const p of this.pending.values()) this.triggerEligible(p);
  }

  /**
   * A task acknowledged (or declined) every checkpoint it took and finishes (its own notice, sent after
   * those acknowledgements on the same connection, so never before them): pending checkpoints that
   * still wait for it count it as finished and trigger the tasks it fed if no barrier can reach them.
   */
  taskFinished(attemptId: string): void {
    const e = this.graph.execution(attemptId);
    // The FINISHED state (through the TaskExecutor) may have come first; a failed attempt is no longer waited for.
    if (!e || e !== e.vertex.currentExecution || e.state === "FAILED" || e.state === "CANCELED") return;
    if (e.state !== "FINISHED") this.finishing.add(attemptId);
    for (const p of [...this.pending.values()]) {
      if (!p.waiting.delete(attemptId)) continue;
      p.finished.add(attemptId);
      this.ctx.statsTracker?.reportAcknowledged(p.id);
      if (p.waiting.size === 0) void this.complete(p);
      else this.triggerEligible(p);
    }
  }

  /**
   * A task reached its end of input and waits for a checkpoint taken there before it finishes (its
   * final checkpoint): one is triggered right away (as soon as the pending one is done: the task may
   * have taken that one before its end of input), and pending ones trigger the tasks it feeds if no
   * barrier can reach them any more.
   */
  taskEndOfInput(attemptId: string): void {
    const e = this.graph.execution(attemptId);
    if (!e || e !== e.vertex.currentExecution || e.isTerminal) return;
    this.endedInput.add(attemptId);
    for (const p of this.pending.values()) this.triggerEligible(p);
    this.triggerSoon();
  }

  /** True when the attempt reported its end of input (it waits for its final checkpoint). */
  endedInputOf(attemptId: string): boolean {
    return this.endedInput.has(attemptId);
  }

  /** Triggers a checkpoint now, or once the pending ones are done (a final checkpoint is wanted). */
  private triggerSoon(): void {
    if (this.stopped || this.paused) return;
    if (this.triggering || this.pending.size >= this.cfg.maxConcurrent) {
      this.finalRequested = true;
      return;
    }
    this.finalRequested = false;
    this.triggering = true;
    this.trigger("CHECKPOINT")
      .catch((err) => {
        // Not every task runs yet (a failover): tried again when one starts running.
        this.finalRequested = true;
        this.log.debug({ reason: (err as Error).message }, "final checkpoint not taken yet");
      })
      .finally(() => (this.triggering = false));
  }

  /** A task started RUNNING: a final checkpoint that could not be triggered before is tried again. */
  taskRunning(): void {
    if (this.finalRequested && !this.triggering && this.pending.size === 0) this.triggerSoon();
  }

  /** Called when a pending checkpoint ended: a wanted final checkpoint is triggered now. */
  private afterPending(): void {
    if (this.finalRequested) this.ctx.schedule(0, () => this.triggerSoon());
  }

  /**
   * Declines every pending checkpoint still waiting for `attemptId` (its connection was
   * re-established: a trigger to it or its acknowledgement may be lost). Not a checkpoint failure.
   */
  declineAll(attemptId: string, reason: string): void {
    for (const p of [...this.pending.values()]) if (!p.finalizing && p.waiting.has(attemptId)) this.abort(p, `declined by a task: ${reason}`, false);
  }

  /** A task acknowledged: when all did, the checkpoint completes. */
  acknowledge(attemptId: string, checkpointId: number, snapshot: SubtaskStateSnapshot): void {
    const p = this.pending.get(checkpointId);
    if (!p?.waiting.delete(attemptId)) return; // late, duplicate, or from an attempt no longer current
    p.acks.set(attemptId, snapshot);
    this.ctx.statsTracker?.reportAcknowledged(checkpointId);
    if (p.waiting.size === 0) void this.complete(p);
  }

  /** A task could not take the checkpoint; only a CHECKPOINT_DECLINED counts as a checkpoint failure. */
  decline(attemptId: string, checkpointId: number, message: string, reason: DeclineReason = "CHECKPOINT_DECLINED"): void {
    const p = this.pending.get(checkpointId);
    if (p?.waiting.has(attemptId)) this.abort(p, `declined by a task: ${message}`, reason === "CHECKPOINT_DECLINED");
  }

  private async complete(p: PendingCheckpoint): Promise<void> {
    p.cancelTimeout();
    p.finalizing = true;
    const vertices: CompletedCheckpoint["vertices"] = {};
    let bytes = 0;
    for (const e of this.graph.currentExecutions()) {
      const ack = p.acks.get(e.attemptId);
      const ejv = e.vertex.jobVertex;
      if (!ack) {
        if (!p.finished.has(e.attemptId)) continue;
        for (const opId of this.ctx.operatorIds(e)) {
          const v = (vertices[opId] ??= { parallelism: ejv.parallelism, maxParallelism: ejv.maxParallelism, subtasks: [] });
          v.subtasks[e.vertex.subtaskIndex] = { operators: {}, finished: true };
        }
        continue;
      }
      for (const [opId, state] of Object.entries(ack.operators)) {
        const v = (vertices[opId] ??= { parallelism: ejv.parallelism, maxParallelism: ejv.maxParallelism, subtasks: [] });
        v.subtasks[e.vertex.subtaskIndex] = { operators: { [opId]: state } };
        bytes += (state.keyed?.bytes ?? 0) + (state.operator?.bytes ?? 0) + (state.raw?.bytes ?? 0);
      }
    }
    const finishedOperators = Object.keys(vertices).filter((id) => {
      const v = vertices[id]!;
      for (let i = 0; i < v.parallelism; i++) if (!v.subtasks[i]?.finished) return false;
      return true;
    });
    const cp: CompletedCheckpoint = {
      jobId: this.graph.jobId,
      checkpointId: p.id,
      kind: p.kind,
      timestamp: p.timestamp,
      completedAt: Date.now(),
      formatVersion: 1,
      vertices,
      bytes,
      ...(finishedOperators.length ? { finishedOperators } : {}),
    };
    try {
      await this.ctx.complete(cp);
    } catch (err) {
      // A write whose outcome is unknown keeps the state: the checkpoint may be the one restored next.
      return this.abort(p, `storing the checkpoint failed: ${(err as Error).message}`, true, !isPossiblyStored(err));
    }
    if (this.pending.get(p.id) !== p) return;
    this.pending.delete(p.id);
    p.cancelOverdue();
    if (p.kind === "CHECKPOINT") {
      if (!this.latest || this.latest.checkpointId < cp.checkpointId) this.latest = cp;
      // Flink's dropSubsumedCheckpoints: older checkpoints still pending can only be subsumed at once.
      for (const older of [...this.pending.values()])
        if (older.kind === "CHECKPOINT" && older.id < p.id && !older.finalizing) this.abort(older, `subsumed by checkpoint ${p.id}`, false);
    }
    this.lastCompletion = Date.now();
    this.consecutiveFailures = 0;
    this.stats.completed++;
    this.stats.latest = { id: p.id, durationMs: cp.completedAt - cp.timestamp, bytes };
    this.ctx.statsTracker?.reportCompleted(p.id, bytes, cp.completedAt);
    this.log.info({ checkpointId: p.id, kind: p.kind, durationMs: cp.completedAt - cp.timestamp, bytes }, "checkpoint completed");
    for (const e of this.graph.currentExecutions()) if (!e.isTerminal) this.ctx.notifyComplete(e, p.id);
    p.done({ ok: true, checkpoint: cp });
    this.afterPending();
  }

  private abort(p: PendingCheckpoint, reason: string, countsAsFailure: boolean, discardState = true): void {
    if (this.pending.get(p.id) !== p) return;
    this.pending.delete(p.id);
    p.cancelTimeout();
    p.cancelOverdue();
    this.stats.failed++;
    this.ctx.statsTracker?.reportFailed(p.id, reason);
    this.log.warn({ checkpointId: p.id, reason }, "checkpoint aborted");
    for (const e of this.graph.currentExecutions()) if (!e.isTerminal) this.ctx.notifyAborted(e, p.id);
    if (discardState) this.ctx.discard(p.id, p.kind);
    p.done({ ok: false, reason });
    this.afterPending();
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
