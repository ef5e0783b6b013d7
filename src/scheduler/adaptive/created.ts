import { adaptiveSchedulerSetup as s } from "./adaptive-scheduler-setup.js";

/**
 * Created (Flink's Created): the job is known, nothing scheduled. startScheduling() moves it to
 * WaitingForResources; a cancel or suspension ends it right away.
 */
export const created = s.createStateConfig({
  on: {
    START_SCHEDULING: { target: "#waitingForResources" },
    CANCEL: { target: "#finished", actions: { type: "finishAs", params: { status: "CANCELED" } } },
  },
});
