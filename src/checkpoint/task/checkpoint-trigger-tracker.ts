import type { CheckpointBarrier } from "../../runtime/api.js";
import type { DeclineReason } from "../types.js";

/** A trigger the task holds until it can take it. */
export interface HeldTrigger {
  barrier: CheckpointBarrier;
  /** Stop-with-savepoint: the source ends once this savepoint completed. */
  stop: boolean;
}

/**
 * Which checkpoint triggers a task still has to take (Flink's SubtaskCheckpointCoordinator keeps
 * the same books). A trigger from the JobMaster is not taken when it arrives: a source takes it at
 * its next yield, a task whose producers all finished at its end of input, or at the in-band barrier
 * if that comes first. So at most one trigger is held, the newest; an older one it replaces is
 * declined, because a checkpoint the task will never take would otherwise wait for its timeout.
 */
export class CheckpointTriggerTracker {
  private held: HeldTrigger | undefined;
  private lastSnapshot = 0;

  constructor(private readonly decline: (checkpointId: number, message: string, reason: DeclineReason) => void) {}

  /** The last checkpoint every operator of the task snapshotted (0: none yet). */
  get lastSnapshotId(): number {
    return this.lastSnapshot;
  }

  /** True when every operator already snapshotted checkpoint `checkpointId` (or a newer one). */
  taken(checkpointId: number): boolean {
    return checkpointId <= this.lastSnapshot;
  }

  /** Holds `barrier` until the task takes it, unless a trigger as new is held already. */
  hold(barrier: CheckpointBarrier, stop: boolean): void {
    if (this.held) {
      if (this.held.barrier.checkpointId >= barrier.checkpointId) return;
      this.decline(this.held.barrier.checkpointId, "superseded by a newer checkpoint", "CHECKPOINT_DECLINED_SUBSUMED");
    }
    this.held = { barrier, stop };
  }

  /** The held trigger, which the task takes now; none is held afterwards. */
  take(): HeldTrigger | undefined {
    const t = this.held;
    this.held = undefined;
    return t;
  }

  /**
   * Every operator snapshotted checkpoint `checkpointId`. In a task without a source (triggered
   * directly because its producers finished), the barrier came in-band first: the held trigger
   * for it, or an older one, is taken with it. A source's held trigger is its own to take.
   */
  snapshotted(checkpointId: number, hasSource: boolean): void {
    this.lastSnapshot = Math.max(this.lastSnapshot, checkpointId);
    if (this.held && this.held.barrier.checkpointId <= checkpointId && !hasSource) this.held = undefined;
  }

  /** Checkpoint `checkpointId` was aborted: its trigger is not taken any more. */
  aborted(checkpointId: number): void {
    if (this.held?.barrier.checkpointId === checkpointId) this.held = undefined;
  }

  /**
   * The task ended. A task that FINISHED declines nothing (the JobMaster counts it as finished in
   * the checkpoints still pending); a failed or canceled one declines the trigger it held.
   */
  taskEnded(finished: boolean): void {
    if (this.held && !finished) this.decline(this.held.barrier.checkpointId, "the task ended", "CHECKPOINT_DECLINED_TASK_CLOSING");
    this.held = undefined;
  }
}
