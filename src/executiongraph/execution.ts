import { newId } from "../core/ids.js";
import type { FailureInfo } from "../core/errors.js";
import type { TaskLocation } from "../deployment/descriptors.js";
import { executionStates, type ExecutionState } from "./execution-state.js";
import type { ExecutionVertex } from "./execution-vertex.js";

/** An attempt's states in the order a TaskExecutor reports them, up to its happy end. */
const LIFECYCLE: readonly ExecutionState[] = ["CREATED", "SCHEDULED", "DEPLOYING", "INITIALIZING", "RUNNING", "FINISHED"];

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
    if (this._state === "CANCELING") return reported === "CANCELED" ? reported : reported === "FINISHED" || reported === "FAILED" ? "CANCELED" : undefined;
    // A report this attempt is past already: one retried after a later one got through.
    const at = LIFECYCLE.indexOf(this._state);
    const to = LIFECYCLE.indexOf(reported);
    return at >= 0 && to >= 0 && to <= at ? undefined : reported;
  }

  /**
   * Moves to `to` as a TaskExecutor reported it: through the states of the lifecycle in between
   * when the reports of those were not had yet (a TaskExecutor sends each report at once, and retries
   * one that got no answer, so a later one can come first); else as {@link transitionTo}.
   */
  advanceTo(to: ExecutionState): void {
    const at = LIFECYCLE.indexOf(this._state);
    const target = LIFECYCLE.indexOf(to);
    if (at >= LIFECYCLE.indexOf("DEPLOYING")) for (let k = at + 1; k < target; k++) this.transitionTo(LIFECYCLE[k]!);
    this.transitionTo(to);
  }

  /** True once FINISHED, CANCELED or FAILED. */
  get isTerminal(): boolean {
    return executionStates.isFinal(this._state);
  }

  toString(): string {
    return `${this.vertex.jobVertex.name} (${this.vertex.subtaskIndex + 1}/${this.vertex.jobVertex.parallelism}) #${this.attemptNumber} [${this.attemptId}]`;
  }
}
