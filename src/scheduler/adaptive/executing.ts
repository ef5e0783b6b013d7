import { adaptiveSchedulerSetup as s } from "./adaptive-scheduler-setup.js";

/**
 * Executing (Flink's Executing): the job runs. Slots added or lost, or new declared bounds, lead
 * to a rescale (Restarting without backoff, then a new ExecutionGraph) when the parallelism they
 * allow is worth it (a vertex loses subtasks or gains at least min-parallelism-increase), but never
 * within scaling-interval.min of entering Executing (the cooldown: changes then are checked when it
 * ends). A failure → Restarting or Failing per the restart strategy; cancel → Canceling;
 * stop-with-savepoint → StopWithSavepoint; every task finished → Finished.
 */
export const executing = s.createStateConfig({
  id: "executing",
  entry: "clearRescalePending",
  initial: "cooldown",
  on: {
    FAILURE: [
      { guard: "canRestart", target: "#restarting", actions: "recordRestart" },
      { target: "#failing", actions: "recordFailure" },
    ],
    CANCEL: { target: "#canceling" },
    STOP_WITH_SAVEPOINT: { target: "#stopWithSavepoint" },
    ALL_TASKS_FINISHED: { target: "#finished", actions: { type: "finishAs", params: { status: "FINISHED" } } },
  },
  states: {
    cooldown: {
      after: { scalingIntervalMin: { target: "idle" } },
      on: { RESOURCES_CHANGED: { actions: "markRescalePending" }, REQUIREMENTS_CHANGED: { actions: ["markRescalePending", "declareResources"] } },
    },
    idle: {
      always: { guard: "rescalePendingAndWorthIt", target: "#restarting", actions: "recordRestart" },
      on: {
        RESOURCES_CHANGED: { guard: "shouldRescale", target: "#restarting", actions: "recordRestart" },
        REQUIREMENTS_CHANGED: [
          { guard: "shouldRescale", target: "#restarting", actions: ["declareResources", "recordRestart"] },
          { actions: "declareResources" },
        ],
      },
    },
  },
});
