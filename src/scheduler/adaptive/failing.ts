import { adaptiveSchedulerSetup as s } from "./adaptive-scheduler-setup.js";

/**
 * Failing (Flink's Failing): the restart strategy allows no restart; every task is canceled and,
 * once all are final, → Finished (FAILED). Cancel → Canceling.
 */
export const failing = s.createStateConfig({
  id: "failing",
  entry: "cancelExecutionGraph",
  always: { guard: "allTasksTerminal", target: "#finished", actions: { type: "finishAs", params: { status: "FAILED" } } },
  on: {
    ALL_TASKS_TERMINAL: { target: "#finished", actions: { type: "finishAs", params: { status: "FAILED" } } },
    CANCEL: { target: "#canceling" },
  },
});
