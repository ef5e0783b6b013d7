import { adaptiveSchedulerSetup as s } from "./adaptive-scheduler-setup.js";

/**
 * Restarting (Flink's Restarting): cancels every task, waits until all are final and the backoff
 * (0 for a rescale) has passed, then → WaitingForResources for a new ExecutionGraph at the
 * parallelism the slots then allow. Cancel → Canceling; further failures are part of this restart.
 */
export const restarting = s.createStateConfig({
  id: "restarting",
  entry: "cancelExecutionGraph",
  initial: "cancelingTasks",
  on: { CANCEL: { target: "#canceling" } },
  states: {
    cancelingTasks: {
      always: { guard: "allTasksTerminal", target: "backingOff" },
      on: { ALL_TASKS_TERMINAL: { target: "backingOff" } },
    },
    backingOff: {
      after: { restartBackoff: { target: "#waitingForResources" } },
    },
  },
});
