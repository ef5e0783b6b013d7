/**
 * Where a subtask's state snapshot is stored (Flink's StateHandle): the checkpoint records them, and
 * the deployment descriptor of a restoring task carries them.
 */

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
