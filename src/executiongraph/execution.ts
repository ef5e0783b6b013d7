import { newId } from "../core/ids.js";
import type { FailureInfo } from "../core/errors.js";
import type { TaskLocation } from "../deployment/descriptors.js";
import { executionStates, type ExecutionState } from "./execution-state.js";
import type { ExecutionVertex } from "./execution-vertex.js";

/** A slot assigned to an Execution: the allocation and where it lives. */
export interface AssignedSlot extends TaskLocation {
  allocationId: string;
}

/** One attempt to run an ExecutionVertex (Flink's Execution). */
export class Execution {
  readonly attemptId = newId();
  private _state: ExecutionState = "CREATED";
  /** When each state was entered (ms since the epoch). */
  readonly stateTimestamps: Partial<Record<ExecutionState, number>> = { CREATED: Date.now() };
  slot: AssignedSlot | undefined;
  failure: FailureInfo | undefined;
  accumulators: Record<string, number> = {};

  constructor(
    readonly vertex: ExecutionVertex,
    readonly attemptNumber: number,
  ) {}

  get state(): ExecutionState {
    return this._state;
  }

  /** Moves to `to`; an illegal transition throws IllegalStateTransitionError and changes nothing. */
  transitionTo(to: ExecutionState): void {
    const from = this._state;
    this._state = executionStates.check(from, to);
    this.stateTimestamps[to] = Date.now();
    this.vertex.jobVertex.graph?.executionTransitioned(this, from, to);
  }

  /**
   * The state a TaskExecutor's report of `reported` moves this attempt to, or undefined when it
   * changes nothing. While CANCELING, a task that finished or failed before the cancel reached it
   * completes the cancellation (CANCELED, as Flink's Execution.markFinished and processFail do: no
   * CANCELED report will follow; a consumer whose producer was canceled first fails that way), and a
   * late INITIALIZING or RUNNING report is ignored.
   */
  stateAfterReport(reported: ExecutionState): ExecutionState | undefined {
    if (this._state !== "CANCELING" || reported === "CANCELED") return reported;
    return reported === "FINISHED" || reported === "FAILED" ? "CANCELED" : undefined;
  }

  /** True once FINISHED, CANCELED or FAILED. */
  get isTerminal(): boolean {
    return executionStates.isFinal(this._state);
  }

  toString(): string {
    return `${this.vertex.jobVertex.name} (${this.vertex.subtaskIndex + 1}/${this.vertex.jobVertex.parallelism}) #${this.attemptNumber} [${this.attemptId}]`;
  }
}
