/**
 * Which state handles each new subtask restores from a completed checkpoint or savepoint (Flink's
 * StateAssignmentOperation): keyed state by key-group overlap (any old parallelism to any new one),
 * operator state from every old subtask (the backend redistributes it, even-split or union).
 * Finished operators (FLIP-147): a subtask whose operators had all finished in the checkpoint is told
 * so (`finished`) and finishes at once: an operator all of whose subtasks finished finishes at any
 * parallelism; a partly finished one only at its old parallelism (subtask by subtask), and restoring
 * it at another parallelism is refused, since its finished subtasks left no state to redistribute.
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { TaskRestore } from "../deployment/descriptors.js";
import { keyGroupRange } from "../state/key-groups.js";
import type { CompletedCheckpoint, KeyedStateHandle, OperatorStateHandle } from "./types.js";

/** True when operator `id` had finished in `cp` in every subtask. */
export function isFullyFinished(cp: CompletedCheckpoint, id: string): boolean {
  if (cp.finishedOperators?.includes(id)) return true;
  const v = cp.vertices[id];
  if (!v || v.subtasks.length !== v.parallelism) return false;
  for (let i = 0; i < v.parallelism; i++) if (!v.subtasks[i]?.finished) return false;
  return true;
}

/** The restore of subtask `subtaskIndex` (of `parallelism`) of the task running operators `operatorIds`. */
export function assignState(
  cp: CompletedCheckpoint,
  operatorIds: readonly string[],
  subtaskIndex: number,
  parallelism: number,
  maxParallelism: number,
): TaskRestore | undefined {
  const mine = keyGroupRange(maxParallelism, parallelism, subtaskIndex);
  const operators: TaskRestore["operators"] = {};
  let any = false;
  let finished = 0;
  for (const id of operatorIds) {
    const v = cp.vertices[id];
    if (!v) continue;
    if (isFullyFinished(cp, id)) {
      finished++;
      continue;
    }
    if (v.subtasks.some((st) => st?.finished)) {
      if (v.parallelism !== parallelism)
        throw new ValidationError(
          ErrorCode.InvalidJobGraph,
          `operator ${id} had finished in some of its ${v.parallelism} subtasks in checkpoint ${cp.checkpointId}; it cannot be restored at parallelism ${parallelism} (a partly finished operator keeps its parallelism)`,
        );
      if (v.subtasks[subtaskIndex]?.finished) {
        finished++;
        continue;
      }
    }
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
  if (operatorIds.length > 0 && finished === operatorIds.length) return { checkpointId: cp.checkpointId, operators: {}, finished: true };
  return any ? { checkpointId: cp.checkpointId, operators } : undefined;
}
