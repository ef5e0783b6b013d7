import { and } from "xstate";
import { adaptiveSchedulerSetup as s } from "./adaptive-scheduler-setup.js";

/**
 * WaitingForResources (Flink's WaitingForResources): declares the desired resources and waits.
 * Desired resources (every upper bound covered) → CreatingExecutionGraph at once. Sufficient ones
 * (every lower bound covered) → CreatingExecutionGraph once they have been sufficient for the
 * resource-stabilization timeout (more slots may still come). When the resource-wait timeout passes
 * the job runs with what it has, or fails if that is not sufficient (reactive mode waits forever).
 */
export const waitingForResources = s.createStateConfig({
  id: "waitingForResources",
  entry: "declareResources",
  initial: "checking",
  after: {
    resourceWaitTimeout: [
      { guard: and(["resourceWaitIsFinite", "hasSufficientResources"]), target: "#creatingExecutionGraph" },
      { guard: "resourceWaitIsFinite", target: "#finished", actions: "failForNoResources" },
    ],
  },
  on: {
    CANCEL: { target: "#finished", actions: { type: "finishAs", params: { status: "CANCELED" } } },
    REQUIREMENTS_CHANGED: { target: ".checking", actions: "declareResources" },
  },
  states: {
    checking: {
      always: [
        { guard: "hasDesiredResources", target: "#creatingExecutionGraph" },
        { guard: and(["hasSufficientResources", "noStabilization"]), target: "#creatingExecutionGraph" },
        { guard: "hasSufficientResources", target: "stabilizing" },
        { target: "insufficient" },
      ],
    },
    insufficient: {
      on: { RESOURCES_CHANGED: { target: "checking" } },
    },
    stabilizing: {
      after: { resourceStabilizationTimeout: { target: "#creatingExecutionGraph" } },
      on: {
        RESOURCES_CHANGED: [
          { guard: "hasDesiredResources", target: "#creatingExecutionGraph" },
          { guard: "hasSufficientResources" },
          { target: "insufficient" },
        ],
      },
    },
  },
});
