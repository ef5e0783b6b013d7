import type { DeclineReason, SubtaskStateSnapshot } from "../types.js";

/**
 * Where a task's checkpoint messages go (Flink's CheckpointResponder): the JobMaster on a worker, the
 * test runtime in process. Fire-and-forget: a lost message costs one checkpoint, which the JobMaster
 * times out or declines.
 */
export interface CheckpointResponder {
  acknowledge(checkpointId: number, snapshot: SubtaskStateSnapshot): void;
  decline(checkpointId: number, message: string, reason: DeclineReason): void;
  /** The task reached its end of input and waits for a final checkpoint. */
  endOfInput(): void;
  /**
   * The task is about to finish and has acknowledged or declined every checkpoint it took (sent after
   * those, on the same connection): pending checkpoints it did not take count it as finished.
   */
  finished(): void;
}
