import type { JobVertex } from "../jobgraph/types.js";
import type { ExecutionState } from "./execution-state.js";
import { ExecutionVertex } from "./execution-vertex.js";
import type { IntermediateResult } from "./intermediate-result.js";
import type { ExecutionGraph } from "./execution-graph.js";

/** All parallel subtasks of one JobVertex (Flink's ExecutionJobVertex). */
export class ExecutionJobVertex {
  taskVertices: ExecutionVertex[];
  /** Results this vertex produces (one per outgoing JobEdge, in edge order). */
  readonly producedResults: IntermediateResult[] = [];
  /** Results this vertex consumes (one per incoming JobEdge, in edge order). */
  readonly inputs: IntermediateResult[] = [];
  /** The graph this vertex belongs to (told of every execution transition). */
  graph: ExecutionGraph | undefined;

  /**
   * The parallelism is decided at runtime (adaptive batch scheduling: when the inputs are complete,
   * by {@link ExecutionGraph.initializeJobVertex}); its producers write one subpartition per key group.
   */
  readonly dynamic: boolean;
  /** False while a dynamic vertex waits for its parallelism (it has one placeholder subtask until then). */
  initialized: boolean;

  constructor(
    public jobVertex: JobVertex,
    dynamic = false,
  ) {
    this.dynamic = dynamic;
    this.initialized = !dynamic;
    this.taskVertices = Array.from({ length: dynamic ? 1 : jobVertex.parallelism }, (_, i) => new ExecutionVertex(this, i));
  }

  get id(): string {
    return this.jobVertex.id;
  }
  get name(): string {
    return this.jobVertex.name;
  }
  get parallelism(): number {
    return this.taskVertices.length;
  }
  get maxParallelism(): number {
    return this.jobVertex.maxParallelism;
  }

  /** The aggregate state (Flink's ExecutionJobVertex.getAggregateState): the most significant subtask state. */
  aggregateState(): ExecutionState {
    const counts = new Map<ExecutionState, number>();
    for (const v of this.taskVertices) {
      const s = v.currentExecution.state;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    if (counts.get("FAILED")) return "FAILED";
    if (counts.get("CANCELING")) return "CANCELING";
    if (counts.get("CANCELED")) return "CANCELED";
    if (counts.get("RUNNING")) return "RUNNING";
    if (counts.get("FINISHED")) return counts.get("FINISHED") === this.parallelism ? "FINISHED" : "RUNNING";
    for (const s of ["INITIALIZING", "DEPLOYING", "SCHEDULED"] as const) if (counts.get(s)) return s;
    return "CREATED";
  }
}
