import { adaptiveSchedulerSetup as s } from "./adaptive-scheduler-setup.js";

/**
 * StopWithSavepoint (Flink's StopWithSavepoint): takes a synchronous savepoint after which the
 * sources end; once every task has finished → Finished (FINISHED). A failed savepoint goes back to
 * Executing (the job keeps running); a task failure is handled as in Executing; cancel → Canceling.
 * Rescaling waits until this is over.
 */
export const stopWithSavepoint = s.createStateConfig({
  id: "stopWithSavepoint",
  entry: "triggerStopWithSavepoint",
  initial: "savepointPending",
  on: {
    FAILURE: [
      { guard: "canRestart", target: "#restarting", actions: "recordRestart" },
      { target: "#failing", actions: "recordFailure" },
    ],
    CANCEL: { target: "#canceling" },
    ALL_TASKS_FINISHED: { target: "#finished", actions: { type: "finishAs", params: { status: "FINISHED" } } },
  },
  states: {
    savepointPending: {
      on: {
        SAVEPOINT_COMPLETED: { target: "draining" },
        SAVEPOINT_FAILED: { target: "#executing" },
      },
    },
    /** The savepoint is complete; the tasks are ending. */
    draining: {},
  },
});
