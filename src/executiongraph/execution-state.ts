import { setup } from "xstate";
import { StateTable } from "./state-table.js";

/** The state of one Execution attempt (Flink's ExecutionState). */
export type ExecutionState = "CREATED" | "SCHEDULED" | "DEPLOYING" | "INITIALIZING" | "RUNNING" | "FINISHED" | "CANCELING" | "CANCELED" | "FAILED";

/** Every execution state, in lifecycle order. */
export const EXECUTION_STATES: readonly ExecutionState[] = [
  "CREATED",
  "SCHEDULED",
  "DEPLOYING",
  "INITIALIZING",
  "RUNNING",
  "FINISHED",
  "CANCELING",
  "CANCELED",
  "FAILED",
];

/**
 * The execution state machine (seed 003's diagram and Flink's ExecutionState): the happy path
 * CREATED → SCHEDULED → DEPLOYING → INITIALIZING → RUNNING → FINISHED; cancellation through
 * CANCELING (or straight to CANCELED before deployment); FAILED reachable from every non-final
 * state. A restart does not revive a final Execution: the ExecutionVertex gets a new attempt that
 * starts in CREATED (the seed's "FAILED/CANCELED → SCHEDULED: restart_strategy").
 * Events are named after their target state.
 */
export const executionStateMachine = setup({
  types: {} as { events: { type: ExecutionState } },
}).createMachine({
  id: "ExecutionState",
  initial: "CREATED",
  states: {
    CREATED: { on: { SCHEDULED: "SCHEDULED", CANCELED: "CANCELED", FAILED: "FAILED" } },
    SCHEDULED: { on: { DEPLOYING: "DEPLOYING", CANCELED: "CANCELED", FAILED: "FAILED" } },
    DEPLOYING: { on: { INITIALIZING: "INITIALIZING", CANCELING: "CANCELING", FAILED: "FAILED" } },
    INITIALIZING: { on: { RUNNING: "RUNNING", CANCELING: "CANCELING", FAILED: "FAILED" } },
    RUNNING: { on: { FINISHED: "FINISHED", CANCELING: "CANCELING", FAILED: "FAILED" } },
    CANCELING: { on: { CANCELED: "CANCELED", FAILED: "FAILED" } },
    FINISHED: { type: "final" },
    CANCELED: { type: "final" },
    FAILED: { type: "final" },
  },
});

/** O(1) transition checks derived from {@link executionStateMachine}. */
export const executionStates = new StateTable<ExecutionState>(executionStateMachine);

/** True for FINISHED, CANCELED and FAILED. */
export function isTerminalExecutionState(s: ExecutionState): boolean {
  return executionStates.isFinal(s);
}
