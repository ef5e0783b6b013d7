import { setup } from "xstate";
import { StateTable } from "./state-table.js";

/** The status of a job (Flink's JobStatus). */
export type JobStatus = "INITIALIZING" | "CREATED" | "RUNNING" | "FAILING" | "FAILED" | "CANCELLING" | "CANCELED" | "FINISHED" | "RESTARTING" | "SUSPENDED";

/**
 * The job status machine (seed 003 and Flink's JobStatus): CREATED → RUNNING → FINISHED; a failure
 * goes FAILING → FAILED, or RESTARTING → CREATED when the restart strategy allows; a cancel goes
 * CANCELLING → CANCELED. FINISHED, CANCELED and FAILED are globally terminal; SUSPENDED is only
 * locally terminal (another JobManager may recover the job). Events are named after their target.
 */
export const jobStatusMachine = setup({
  types: {} as { events: { type: JobStatus } },
}).createMachine({
  id: "JobStatus",
  initial: "INITIALIZING",
  states: {
    INITIALIZING: { on: { CREATED: "CREATED", FAILED: "FAILED", CANCELED: "CANCELED", SUSPENDED: "SUSPENDED" } },
    CREATED: { on: { RUNNING: "RUNNING", CANCELLING: "CANCELLING", CANCELED: "CANCELED", FAILING: "FAILING", FAILED: "FAILED", SUSPENDED: "SUSPENDED" } },
    RUNNING: { on: { FINISHED: "FINISHED", FAILING: "FAILING", RESTARTING: "RESTARTING", CANCELLING: "CANCELLING", SUSPENDED: "SUSPENDED" } },
    FAILING: { on: { FAILED: "FAILED", RESTARTING: "RESTARTING", CANCELLING: "CANCELLING", SUSPENDED: "SUSPENDED" } },
    RESTARTING: { on: { CREATED: "CREATED", CANCELLING: "CANCELLING", CANCELED: "CANCELED", FAILED: "FAILED", SUSPENDED: "SUSPENDED" } },
    CANCELLING: { on: { CANCELED: "CANCELED", SUSPENDED: "SUSPENDED" } },
    FINISHED: { type: "final" },
    CANCELED: { type: "final" },
    FAILED: { type: "final" },
    SUSPENDED: { type: "final" },
  },
});

/** O(1) transition checks derived from {@link jobStatusMachine}. */
export const jobStatuses = new StateTable<JobStatus>(jobStatusMachine);

/** FINISHED, CANCELED, FAILED: the job is done everywhere and its data may be cleaned up. */
export function isGloballyTerminal(s: JobStatus): boolean {
  return s === "FINISHED" || s === "CANCELED" || s === "FAILED";
}
