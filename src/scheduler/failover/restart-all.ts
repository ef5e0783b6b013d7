import type { ExecutionGraph } from "../../executiongraph/execution-graph.js";
import type { ExecutionVertex } from "../../executiongraph/execution-vertex.js";
import type { FailoverStrategy } from "./failover-strategy.js";

/** Every failure restarts every subtask (Flink's RestartAllFailoverStrategy, `full`). */
export class RestartAllFailoverStrategy implements FailoverStrategy {
  readonly name = "full";
  constructor(private readonly graph: ExecutionGraph) {}
  tasksToRestart(): Set<ExecutionVertex> {
    return new Set(this.graph.vertices());
  }
}
