import { adaptiveSchedulerSetup } from "./adaptive-scheduler-setup.js";
import { canceling } from "./canceling.js";
import { created } from "./created.js";
import { creatingExecutionGraph } from "./creating-execution-graph.js";
import { executing } from "./executing.js";
import { failing } from "./failing.js";
import { finished } from "./finished.js";
import { restarting } from "./restarting.js";
import { stopWithSavepoint } from "./stop-with-savepoint.js";
import { waitingForResources } from "./waiting-for-resources.js";

/**
 * The AdaptiveScheduler (FLIP-160) as one machine, state for state the diagram of seed 000:
 *
 * ```
 * Created ──startScheduling──▶ WaitingForResources ──desired, or sufficient & stable──▶ CreatingExecutionGraph
 * CreatingExecutionGraph ──assigned──▶ Executing | ──slots lost──▶ WaitingForResources | ──failed──▶ Finished
 * Executing ──failure──▶ Restarting | Failing;  ──rescale──▶ Restarting;  ──cancel──▶ Canceling
 * Executing ──stopWithSavepoint──▶ StopWithSavepoint ──savepoint, tasks done──▶ Finished
 * Restarting ──tasks final, backoff──▶ WaitingForResources;  Failing, Canceling ──tasks final──▶ Finished
 * ```
 *
 * Any non-final state → Finished (SUSPENDED) on SUSPEND. The states live beside this file, one file each (`created.ts`, `executing.ts`...).
 */
export const adaptiveSchedulerMachine = adaptiveSchedulerSetup.createMachine({
  id: "AdaptiveScheduler",
  initial: "created",
  context: ({ input }) => ({
    env: input.env,
    settings: input.settings,
    backoffMs: 0,
    rescalePending: false,
    finalStatus: undefined,
    failure: undefined,
    restarts: 0,
    rescales: 0,
    lastCreation: undefined,
  }),
  on: {
    SUSPEND: { target: "#finished", actions: { type: "finishAs", params: { status: "SUSPENDED" } } },
  },
  states: {
    created,
    waitingForResources,
    creatingExecutionGraph,
    executing,
    restarting,
    failing,
    canceling,
    stopWithSavepoint,
    finished,
  },
});

/** The top-level state names, Flink's state classes. */
export type AdaptiveSchedulerStateName = keyof typeof adaptiveSchedulerMachine.config.states & string;
