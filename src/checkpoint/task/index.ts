/** The task side of checkpointing: what a Task runs to bind, snapshot, upload and restore its operators' state. */
export { TaskStateManager } from "./task-state-manager.js";
export type { CheckpointResponder } from "./checkpoint-responder.js";
export type { SnapshotStorage } from "./snapshot-storage.js";
export { FINAL_CHECKPOINT_TIMEOUT_MS } from "./final-checkpoint.js";
export { SYNCHRONOUS_SAVEPOINT_TIMEOUT_MS } from "./synchronous-savepoint.js";
