import { assign, setup } from "xstate";
import { ErrorCode, type FailureInfo } from "../../core/errors.js";
import type { JobStatus } from "../../executiongraph/job-status.js";
import type { AdaptiveSchedulerEnvironment, AdaptiveSchedulerEvent, CreationOutcome } from "./environment.js";
import { isFiniteWait, type AdaptiveSchedulerSettings } from "./settings.js";

/** The machine's context: its environment, settings, and what the current state needs. */
export interface AdaptiveSchedulerContext {
  env: AdaptiveSchedulerEnvironment;
  settings: AdaptiveSchedulerSettings;
  /** Backoff of the restart under way, ms (0 for a rescale). */
  backoffMs: number;
  /** Resources changed during the cooldown after entering Executing: check once it ends. */
  rescalePending: boolean;
  /** The job's final status (set on the way to Finished). */
  finalStatus: JobStatus | undefined;
  /** The cause of a failed job. */
  failure: FailureInfo | undefined;
  /** Restarts so far (failures and rescales). */
  restarts: number;
  rescales: number;
  /** Outcome of the last ExecutionGraph creation. */
  lastCreation: CreationOutcome["kind"] | undefined;
}

/** Input of the machine. */
export interface AdaptiveSchedulerInput {
  env: AdaptiveSchedulerEnvironment;
  settings: AdaptiveSchedulerSettings;
}

/** The longest timer Node can hold (a wait "forever" is this one with its guard off). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The typed building blocks the state files share (guards, actions, delays), Flink's
 * AdaptiveScheduler contexts as named XState implementations.
 */
export const adaptiveSchedulerSetup = setup({
  types: {} as { context: AdaptiveSchedulerContext; events: AdaptiveSchedulerEvent; input: AdaptiveSchedulerInput },
  guards: {
    hasDesiredResources: ({ context }) => context.env.hasDesiredResources(),
    hasSufficientResources: ({ context }) => context.env.hasSufficientResources(),
    noStabilization: ({ context }) => context.settings.resourceStabilizationTimeoutMs <= 0,
    resourceWaitIsFinite: ({ context }) => isFiniteWait(context.settings.resourceWaitTimeoutMs),
    creationFailed: ({ context }) => context.lastCreation === "failed",
    assignmentFailed: ({ context }) => context.lastCreation === "noResources",
    shouldRescale: ({ context }) => context.env.shouldRescale(),
    rescalePendingAndWorthIt: ({ context }) => context.rescalePending && context.env.shouldRescale(),
    canRestart: ({ event }) => event.type === "FAILURE" && event.canRestart,
    allTasksTerminal: ({ context }) => context.env.allTasksTerminal(),
  },
  actions: {
    declareResources: ({ context }) => context.env.declareResources(),
    deploy: ({ context }) => context.env.deploy(),
    cancelExecutionGraph: ({ context }) => context.env.cancelExecutionGraph(),
    triggerStopWithSavepoint: ({ context }) => context.env.triggerStopWithSavepoint(),
    notifyFinished: ({ context }) => context.env.finished(context.finalStatus!, context.failure),
    /** Runs the creation and records a failure (the state's eventless transitions read it). */
    createExecutionGraph: assign(({ context }) => {
      const r = context.env.createExecutionGraph();
      return r.kind === "failed" ? { failure: r.cause, finalStatus: "FAILED" as const, lastCreation: r.kind } : { lastCreation: r.kind };
    }),
    clearRescalePending: assign({ rescalePending: false }),
    markRescalePending: assign({ rescalePending: true }),
    recordRestart: assign(({ context, event }) => ({
      backoffMs: event.type === "FAILURE" ? event.backoffMs : 0,
      restarts: context.restarts + 1,
      rescales: context.rescales + (event.type === "FAILURE" ? 0 : 1),
    })),
    recordFailure: assign(({ event }) => (event.type === "FAILURE" ? { failure: event.cause } : {})),
    finishAs: assign((_, params: { status: JobStatus }) => ({ finalStatus: params.status })),
    failForNoResources: assign(({ context }) => ({
      finalStatus: "FAILED" as const,
      failure: {
        code: ErrorCode.SlotAllocationFailed,
        name: "NoResourceAvailableException",
        message: `could not acquire the minimum resources within the resource wait timeout (${context.settings.resourceWaitTimeoutMs} ms); start more TaskExecutors or lower the parallelism`,
      } satisfies FailureInfo,
    })),
  },
  delays: {
    resourceWaitTimeout: ({ context }) =>
      isFiniteWait(context.settings.resourceWaitTimeoutMs) ? Math.min(context.settings.resourceWaitTimeoutMs, MAX_TIMER_MS) : MAX_TIMER_MS,
    resourceStabilizationTimeout: ({ context }) => Math.max(0, context.settings.resourceStabilizationTimeoutMs),
    scalingIntervalMin: ({ context }) => Math.max(0, context.settings.scalingIntervalMinMs),
    restartBackoff: ({ context }) => Math.max(0, context.backoffMs),
  },
});
