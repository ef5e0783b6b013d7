import { adaptiveSchedulerSetup as s } from "./adaptive-scheduler-setup.js";

/**
 * Finished (Flink's Finished): the job reached its terminal status (FINISHED, FAILED, CANCELED, or
 * SUSPENDED when the JobManager let go of it); the scheduler is told once.
 */
export const finished = s.createStateConfig({
  id: "finished",
  type: "final",
  entry: "notifyFinished",
});
