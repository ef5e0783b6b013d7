import { Execution } from "./execution.js";
import type { ExecutionJobVertex } from "./execution-job-vertex.js";
import type { ConsumedPartitionGroup, IntermediateResultPartition } from "./intermediate-result.js";

/** One parallel subtask of a JobVertex: its current Execution and the prior ones. */
export class ExecutionVertex {
  private current: Execution;
  readonly priorExecutions: Execution[] = [];
  /** The partitions this subtask produces, one per produced IntermediateResult (same order). */
  readonly producedPartitions: IntermediateResultPartition[] = [];
  /** What this subtask reads, one group per consumed IntermediateResult (same order as the EJV's inputs). */
  readonly consumedPartitionGroups: ConsumedPartitionGroup[] = [];

  constructor(
    readonly jobVertex: ExecutionJobVertex,
    readonly subtaskIndex: number,
  ) {
    this.current = new Execution(this, 0);
  }

  get currentExecution(): Execution {
    return this.current;
  }

  /** Archives the current (final) attempt and starts a new one in CREATED (a restart). */
  resetForNewExecution(): Execution {
    if (!this.current.isTerminal) throw new Error(`cannot reset ${this.current}: it is ${this.current.state}`);
    this.priorExecutions.push(this.current);
    this.current = new Execution(this, this.current.attemptNumber + 1);
    return this.current;
  }

  get id(): string {
    return `${this.jobVertex.id}#${this.subtaskIndex}`;
  }
}
