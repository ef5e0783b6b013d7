import type { Logger } from "../../core/logger.js";
import type { TaskDeploymentDescriptor } from "../../deployment/descriptors.js";
import {
  EndOfInputSignal,
  type CheckpointBarrier,
  type Invokable,
  type OperatorBinding,
  type RecordInput,
  type RecordOutput,
  type TaskContext,
} from "../../runtime/api.js";
import { barrierAwareInput } from "./barrier-aware-input.js";
import type { CheckpointResponder } from "./checkpoint-responder.js";
import { CheckpointTriggerTracker } from "./checkpoint-trigger-tracker.js";
import { FinalCheckpoint } from "./final-checkpoint.js";
import { OperatorStateBinding, type BoundOperator } from "./operator-state-binding.js";
import { SnapshotUploader } from "./snapshot-uploader.js";
import type { SnapshotStorage } from "./snapshot-storage.js";
import { SynchronousSavepoint } from "./synchronous-savepoint.js";

/**
 * The checkpointing side of one Task (Flink's TaskStateManager + SubtaskCheckpointCoordinator), and
 * the one thing the Task talks to about state. It decides when each operator is snapshotted and
 * leaves the rest to its parts: {@link OperatorStateBinding} (backends, restore),
 * {@link CheckpointTriggerTracker} (which trigger to take), {@link SnapshotUploader} (upload,
 * acknowledge), {@link FinalCheckpoint} (FLIP-147) and {@link SynchronousSavepoint}.
 *
 * A checkpoint is taken per operator at a consistent point — for a source, at its next yield after
 * the trigger; for any other operator, when the aligned barrier reaches it — by capturing its
 * state synchronously (cheap: keyed state copy-on-write) and forwarding the barrier; the upload
 * runs on while processing goes on, and the task acknowledges once every operator is done.
 *
 * With checkpointing, a task whose operators commit on checkpoint completion does not finish at its
 * end of input: it takes a checkpoint right there (or counts the last one, if nothing was read after
 * it) and finishes only once that one completed, which records the task as finished after it.
 */
export class TaskStateManager {
  /** The stop-with-savepoint this task snapshotted, if any. */
  private stopSavepointId: number | undefined;
  private readonly operators: OperatorStateBinding;
  private readonly triggers: CheckpointTriggerTracker;
  private readonly uploader: SnapshotUploader;
  private readonly final: FinalCheckpoint;
  private readonly savepoint = new SynchronousSavepoint();
  /** The inputs barriers are taken from: an aborted checkpoint's alignment is released there. */
  private readonly inputs: RecordInput[] = [];

  constructor(
    private readonly tdd: TaskDeploymentDescriptor,
    storage: SnapshotStorage | undefined,
    private readonly responder: CheckpointResponder,
    private readonly log: Logger,
  ) {
    this.operators = new OperatorStateBinding(tdd, storage, log);
    this.triggers = new CheckpointTriggerTracker((id, message, reason) => responder.decline(id, message, reason));
    this.uploader = new SnapshotUploader(tdd.jobId, tdd.subtaskIndex, storage, responder, log);
    this.final = new FinalCheckpoint(responder);
  }

  get checkpointing(): boolean {
    return this.tdd.checkpointing === true;
  }

  /** Binds an operator: state backends (restored), barrier-aware input, source yield. */
  bind(id: string, invokable: Invokable, io: { input: RecordInput; output: RecordOutput; ctx: () => TaskContext }): OperatorBinding {
    const op = this.operators.bind(id, invokable, io);
    let input = io.input;
    if (op !== this.operators.source) {
      this.inputs.push(input);
      input = barrierAwareInput(op, input, (b) => this.snapshotOperator(op, b), this.log);
    }
    return { keyedState: op.keyed, operatorState: op.operator, input, yield: () => this.sourceYield(op) };
  }

  /** Reads the state to restore, so that each operator's is loaded when it is bound. */
  prefetch(): Promise<void> {
    return this.operators.prefetch();
  }

  /**
   * A trigger from the JobMaster: a source takes it at its next yield; a task whose producers all
   * finished or ended takes it at its end of input (or at the in-band barrier, if that comes first);
   * a task already at its end of input takes it now. `stop`: stop-with-savepoint.
   */
  trigger(barrier: CheckpointBarrier, stop = false): void {
    if (this.triggers.taken(barrier.checkpointId)) return; // the barrier came in-band first
    if (this.final.ended) {
      this.snapshotAll(barrier);
      return;
    }
    this.triggers.hold(barrier, stop && this.operators.source !== undefined);
  }

  /**
   * The task's operators have all ended (FLIP-147). Without checkpointing, or when no operator
   * commits on checkpoint completion, the task may finish now. Otherwise this resolves once a
   * checkpoint taken at the end of input completed (the last one, if nothing was read after it):
   * its completion committed everything. `stopped`: a source ended by stop-with-savepoint.
   *
   * A task whose last snapshot was a stop-with-savepoint's is not drained (Flink's stop without
   * drain): that savepoint is its final checkpoint, whatever its operators did after the barrier
   * (a window the final watermark fired, say), and the resumed job does that again.
   */
  async endOfInput(signal: AbortSignal, stopped: boolean): Promise<void> {
    if (!this.checkpointing || !this.uploader.hasStorage || !this.operators.commitsOnCheckpoint) return;
    const source = this.operators.source;
    if (source && !stopped) source.dirty = true;
    const last = this.triggers.lastSnapshotId;
    if (this.final.reached(last, last > 0 && (!this.operators.dirty || this.stopSavepointId === last))) return;
    const committed = this.final.untilCommitted(signal);
    const held = this.triggers.take();
    if (held) this.snapshotAll(held.barrier);
    else this.final.askUnlessChosen();
    this.log.debug({ finalCheckpoint: this.final.checkpointId ?? null }, "end of input: waiting for the final checkpoint");
    await committed;
  }

  /**
   * Right before the task reports FINISHED (Flink waits for pending async checkpoints too): every
   * checkpoint it took is acknowledged (or declined) first, then the JobMaster is told the task
   * finished, so a checkpoint the task took is never counted as "finished" without its state.
   */
  async beforeFinished(): Promise<void> {
    if (!this.checkpointing) return;
    await this.uploader.settled();
    this.responder.finished();
  }

  /** The task ended (`finished`: FINISHED, else failed or canceled): nothing waits any more. */
  taskEnded(finished: boolean): void {
    this.savepoint.taskEnded();
    this.final.taskEnded();
    this.triggers.taskEnded(finished);
  }

  /**
   * The worker's NATS connection was re-established: a task waiting for its final checkpoint asks for
   * one again (its end-of-input notice, the trigger or the completion notice may have been lost).
   */
  connectionRestored(): void {
    this.final.connectionRestored();
  }

  /** Checkpoint `checkpointId` completed: every operator commits it. */
  async notifyComplete(checkpointId: number): Promise<void> {
    this.savepoint.completed(checkpointId);
    this.final.completed(checkpointId);
    for (const op of this.operators.all()) await op.invokable.notifyCheckpointComplete?.(op.ctx(), checkpointId);
    this.final.committed(checkpointId);
  }

  /** Checkpoint `checkpointId` was aborted: its trigger, uploads and alignment are given up. */
  notifyAborted(checkpointId: number): void {
    this.savepoint.aborted(checkpointId);
    this.triggers.aborted(checkpointId);
    this.final.aborted(checkpointId);
    this.uploader.abort(checkpointId);
    for (const input of this.inputs) input.abortCheckpoint?.(checkpointId);
    for (const op of this.operators.all()) op.invokable.notifyCheckpointAborted?.(op.ctx(), checkpointId);
  }

  /** Snapshots every operator not yet in checkpoint `b` (at the end of input: no barrier goes out). */
  private snapshotAll(b: CheckpointBarrier): void {
    if (this.triggers.taken(b.checkpointId)) return;
    for (const op of this.operators.all()) if (this.uploader.awaits(b.checkpointId, op.id)) this.snapshotOperator(op, b);
  }

  /** A yield of an operator; the source takes a held trigger there (the barrier goes on through its chain like any record). */
  private async sourceYield(op: BoundOperator): Promise<void> {
    if (op === this.operators.source) {
      op.dirty = true;
      const held = this.triggers.take();
      if (held) {
        this.snapshotOperator(op, held.stop ? { ...held.barrier, stop: true } : held.barrier);
        if (held.stop && (await this.savepoint.hold(held.barrier.checkpointId, op.ctx().signal))) throw new EndOfInputSignal();
      }
    }
    await new Promise<void>((r) => setImmediate(r));
  }

  /** Synchronous part of a snapshot: state captured, barrier forwarded; the upload runs on. */
  private snapshotOperator(op: BoundOperator, b: CheckpointBarrier): void {
    if (b.stop) this.stopSavepointId = b.checkpointId;
    const snap = op.capture(b, this.uploader.hasStorage);
    op.dirty = false;
    // At the end of input the outputs have ended: the consumers take this checkpoint from their own trigger.
    if (!this.final.ended) op.output.broadcastBarrier?.(b);
    if (!this.uploader.add(b, op, snap, this.operators.ids())) return;
    this.triggers.snapshotted(b.checkpointId, this.operators.source !== undefined);
    this.final.snapshotted(b.checkpointId);
  }
}
