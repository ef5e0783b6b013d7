/**
 * Checkpoints as the runtime passes them around (Flink's CheckpointMetaData, TaskStateSnapshot,
 * CompletedCheckpoint). Snapshot bytes live in JetStream Object Store; these descriptions (with the
 * object names) live in JetStream KV.
 */

import type { BarrierKind } from "../core/stream-events.js";

/** Checkpoint or savepoint (Flink's CheckpointType / SnapshotType): the kind its barriers carry. */
export type SnapshotKind = BarrierKind;

// Where a subtask's snapshot is stored travels in deployment descriptors too, so it is defined with the state.
export type { StateHandle, KeyedStateHandle, OperatorStateHandle } from "../state/handles.js";
import type { KeyedStateHandle, OperatorStateHandle, StateHandle } from "../state/handles.js";

/**
 * Why a task declined a checkpoint (Flink's CheckpointFailureReason names). As in Flink's
 * CheckpointFailureManager, only CHECKPOINT_DECLINED (the task tried and failed) counts toward the
 * job's tolerable checkpoint failures: a trigger superseded by a newer checkpoint or savepoint, or
 * held by a task that is ending, says nothing about the job's health.
 */
export const DECLINE_REASONS = ["CHECKPOINT_DECLINED", "CHECKPOINT_DECLINED_SUBSUMED", "CHECKPOINT_DECLINED_TASK_CLOSING"] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

/** What one subtask acknowledged for a checkpoint (Flink's OperatorSubtaskState, per chained member). */
export interface SubtaskStateSnapshot {
  /** Per operator (chain member vertex id): its keyed and operator state handles. */
  operators: Record<string, { keyed?: KeyedStateHandle; operator?: OperatorStateHandle; raw?: StateHandle }>;
  /**
   * The subtask had FINISHED when the checkpoint was taken (FLIP-147: checkpoints go on after tasks
   * finished); it holds no state and is not run again on restore.
   */
  finished?: boolean;
}

/** A completed checkpoint's metadata (Flink's CompletedCheckpoint + its _metadata). */
export interface CompletedCheckpoint {
  jobId: string;
  checkpointId: number;
  kind: SnapshotKind;
  /** Trigger time and completion time (ms since the epoch). */
  timestamp: number;
  completedAt: number;
  /** Format version of the metadata and state (bumped only with a migration). */
  formatVersion: 1;
  /** Per job vertex (original, unchained vertex id): parallelism, max parallelism, and one entry per subtask. */
  vertices: Record<string, { parallelism: number; maxParallelism: number; subtasks: SubtaskStateSnapshot[] }>;
  /** Total bytes of all handles. */
  bytes: number;
  /**
   * Operators (original vertex ids) whose every subtask had FINISHED (Flink's FullyFinishedOperatorState):
   * a restore finishes them at once instead of running them again. Absent in checkpoints written
   * before FLIP-147 support (read as none).
   */
  finishedOperators?: string[];
}
