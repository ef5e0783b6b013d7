import { adaptiveSchedulerSetup as s } from "./adaptive-scheduler-setup.js";

/** Canceling (Flink's Canceling): every task is canceled; once all are final → Finished (CANCELED). */
export const canceling = s.createStateConfig({
  id: "canceling",
  entry: "cancelExecutionGraph",
  always: { guard: "allTasksTerminal", target: "#finished", actions: { type: "finishAs", params: { status: "CANCELED" } } },
  on: {
    ALL_TASKS_TERMINAL: { target: "#finished", actions: { type: "finishAs", params: { status: "CANCELED" } } },
  },
});
