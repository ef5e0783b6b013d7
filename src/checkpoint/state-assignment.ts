/**
 * Which state handles each new subtask restores from a completed checkpoint or savepoint (Flink's
 * StateAssignmentOperation): keyed state by key-group overlap (any old parallelism to any new one),
 * operator state from every old subtask (the backend redistributes it, even-split or union).
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { TaskRestore } from "../deployment/descriptors.js";
import { keyGroupRange } from "../state/key-groups.js";
import type { CompletedCheckpoint, KeyedStateHandle, OperatorStateHandle } from "./types.js";

/** The restore of subtask `subtaskIndex` (of `parallelism`) of the task running operators `operatorIds`. */
export function assignState(cp: CompletedCheckpoint, operatorIds: readonly string[], subtaskIndex: number, parallelism: number, maxParallelism: number): TaskRestore | undefined {
  const mine = keyGroupRange(maxParallelism, parallelism, subtaskIndex);
  const operators: TaskRestore["operators"] = {};
  let any = false;
  for (const id of operatorIds) {
    const v = cp.vertices[id];
    if (!v) continue;
    if (v.maxParallelism !== maxParallelism)
      throw new ValidationError(
        ErrorCode.InvalidJobGraph,
        `operator ${id} was snapshotted with max parallelism ${v.maxParallelism} and now has ${maxParallelism}; the max parallelism of a stateful operator cannot change`,
      );
    const keyed: KeyedStateHandle[] = [];
    const operator: OperatorStateHandle[] = [];
    for (const s of v.subtasks) {
      const st = s?.operators[id];
      if (!st) continue;
      if (st.keyed && st.keyed.keyGroupRange.start <= mine.end && st.keyed.keyGroupRange.end >= mine.start) keyed.push(st.keyed);
      if (st.operator) operator.push(st.operator);
    }
    if (keyed.length || operator.length) {
      operators[id] = { keyed, operator };
      any = true;
    }
  }
  return any ? { checkpointId: cp.checkpointId, operators } : undefined;
}
