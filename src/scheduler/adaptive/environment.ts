import type { FailureInfo } from "../../core/errors.js";
import type { JobStatus } from "../../executiongraph/job-status.js";

/** How creating the ExecutionGraph with the slots at hand went (Flink's CreatingExecutionGraph outcomes). */
export type CreationOutcome =
  | { kind: "assigned" }
  /** The slots no longer cover the lower bounds (lost meanwhile): wait for resources again. */
  | { kind: "noResources" }
  /** The graph cannot be built (bad restore, bad graph): the job fails. */
  | { kind: "failed"; cause: FailureInfo };

/**
 * What the AdaptiveScheduler's states ask of the scheduler around them (the union of Flink's
 * per-state Context interfaces: Created.Context, WaitingForResources.Context, Executing.Context...).
 * Queries are pure; effects are named after what they do. The machine never touches NATS, slots or
 * tasks itself, so it can be driven in tests with a recording environment and a simulated clock.
 */
export interface AdaptiveSchedulerEnvironment {
  /** The slots held cover every vertex's upper bound. */
  hasDesiredResources(): boolean;
  /** The slots held cover every vertex's lower bound. */
  hasSufficientResources(): boolean;
  /** Declares the slots the job wants (its desired resources) to the ResourceManager. */
  declareResources(): void;
  /** Builds the ExecutionGraph at the parallelism the slots allow and assigns the slots. */
  createExecutionGraph(): CreationOutcome;
  /** Deploys every task of the ExecutionGraph just created. */
  deploy(): void;
  /** Whether the slots held now allow a parallelism worth restarting for (Executing). */
  shouldRescale(): boolean;
  /** Cancels every task that has not reached a final state. */
  cancelExecutionGraph(): void;
  /** Every task is in a final state. */
  allTasksTerminal(): boolean;
  /** Starts a stop-with-savepoint; its outcome comes back as SAVEPOINT_COMPLETED or SAVEPOINT_FAILED. */
  triggerStopWithSavepoint(): void;
  /** The job reached a terminal status (the machine's final state). */
  finished(status: JobStatus, cause: FailureInfo | undefined): void;
}

/** A failure and the restart strategy's verdict on it (Flink's FailureResult). */
export interface FailureEvent {
  type: "FAILURE";
  cause: FailureInfo;
  /** The restart strategy allows a restart. */
  canRestart: boolean;
  /** Backoff before the restart, ms. */
  backoffMs: number;
}

/** Events of the AdaptiveScheduler machine. */
export type AdaptiveSchedulerEvent =
  | { type: "START_SCHEDULING" }
  /** Slots were added or lost. */
  | { type: "RESOURCES_CHANGED" }
  /** The user declared other parallelism bounds. */
  | { type: "REQUIREMENTS_CHANGED" }
  | FailureEvent
  /** Every task finished: the job is done. */
  | { type: "ALL_TASKS_FINISHED" }
  /** Every task is final (after cancellation). */
  | { type: "ALL_TASKS_TERMINAL" }
  | { type: "CANCEL" }
  | { type: "STOP_WITH_SAVEPOINT" }
  | { type: "SAVEPOINT_COMPLETED" }
  | { type: "SAVEPOINT_FAILED"; reason: string }
  /** The JobManager stops or loses leadership: the job ends here, not globally. */
  | { type: "SUSPEND" };
