import { adaptiveSchedulerSetup as s } from "./adaptive-scheduler-setup.js";

/**
 * CreatingExecutionGraph (Flink's CreatingExecutionGraph): builds the ExecutionGraph at the
 * parallelism the slots allow and assigns the slots. Assigned → Executing (deploying every task);
 * the slots no longer suffice (lost meanwhile) → WaitingForResources (until the slots change); the graph cannot be built →
 * Finished (FAILED).
 */
export const creatingExecutionGraph = s.createStateConfig({
  id: "creatingExecutionGraph",
  entry: "createExecutionGraph",
  always: [
    { guard: "creationFailed", target: "#finished" },
    { guard: "assignmentFailed", target: "#waitingForResources.insufficient" },
    { target: "#executing", actions: "deploy" },
  ],
});
