/**
 * Checkpoints as the runtime passes them around (Flink's CheckpointMetaData, TaskStateSnapshot,
 * CompletedCheckpoint). Snapshot bytes live in JetStream Object Store; these descriptions (with the
 * object names) live in JetStream KV.
 */

/** Checkpoint or savepoint (Flink's CheckpointType / SnapshotType). */
export type SnapshotKind = "CHECKPOINT" | "SAVEPOINT";

/** Where one piece of a task's snapshot is stored. */
export interface StateHandle {
  /** Object Store object name. */
  object: string;
  bytes: number;
}

/** A keyed-state snapshot of one subtask: the key groups it holds and where they are. */
export interface KeyedStateHandle extends StateHandle {
  /** Inclusive key-group range of the snapshotting subtask. */
  keyGroupRange: { start: number; end: number };
  maxParallelism: number;
}

/** An operator-state snapshot of one subtask. */
export interface OperatorStateHandle extends StateHandle {
  /** Names and redistribution modes of the lists inside. */
  states: Record<string, "SPLIT_DISTRIBUTE" | "UNION">;
}

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
