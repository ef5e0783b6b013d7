import type { ExecutionVertex } from "../../executiongraph/execution-vertex.js";

/** Which subtasks must restart when one fails (Flink's FailoverStrategy). */
export interface FailoverStrategy {
  readonly name: "full" | "region";
  tasksToRestart(failed: ExecutionVertex): Set<ExecutionVertex>;
}
