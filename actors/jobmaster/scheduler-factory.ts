import type { Logger } from "../../src/core/logger.js";
import { ExecutionGraph } from "../../src/executiongraph/execution-graph.js";
import type { JobGraph, SchedulerType } from "../../src/jobgraph/types.js";
import { AdaptiveScheduler } from "../../src/scheduler/adaptive/adaptive-scheduler.js";
import { adaptiveSchedulerSettings, type AdaptiveSchedulerSettings } from "../../src/scheduler/adaptive/settings.js";
import { AdaptiveBatchScheduler, dynamicVerticesOf } from "../../src/scheduler/adaptivebatch/adaptive-batch-scheduler.js";
import { DefaultScheduler, type DefaultSchedulerOptions } from "../../src/scheduler/default-scheduler.js";
import type { SchedulerContext, SchedulerNG } from "../../src/scheduler/scheduler-ng.js";

/** The cluster's scheduler settings (`eddy jobmanager --scheduler ... --reactive`). */
export interface SchedulerFactoryOptions extends DefaultSchedulerOptions {
  /** The cluster's scheduler; a job's `config.scheduler` wins. Default "default". */
  scheduler?: SchedulerType;
  /** Reactive mode (implies the adaptive scheduler for streaming jobs). */
  reactive?: boolean;
  /** Overrides of the adaptive scheduler's timeouts (Flink's jobmanager.adaptive-scheduler.*). */
  adaptive?: Partial<AdaptiveSchedulerSettings>;
}

/** A scheduler the JobMaster drives, with the job-wide failure and savepoint hooks some have. */
export type JobScheduler = SchedulerNG & {
  /** Restarts since the job started (Flink's numRestarts). */
  readonly numberOfRestarts: number;
  failGlobal(cause: import("../../src/core/errors.js").FailureInfo): void;
  stopWithSavepoint?(run: () => Promise<string>): Promise<string>;
};

/** A BATCH job: it has exchanges and every one is BLOCKING (Flink's JobType.BATCH). */
export function isBatchJob(jobGraph: JobGraph): boolean {
  return jobGraph.edges.length > 0 && jobGraph.edges.every((e) => e.resultPartitionType === "BLOCKING");
}

/**
 * Which scheduler runs a job (Flink's DefaultSlotPoolServiceSchedulerFactory.getSchedulerType): the
 * job's `config.scheduler`, else reactive mode's adaptive scheduler, else the cluster's choice. The
 * adaptive scheduler runs streaming jobs only: a BATCH job asking for it gets the adaptive batch
 * scheduler, as in Flink.
 */
export function schedulerTypeOf(jobGraph: JobGraph, opts: SchedulerFactoryOptions = {}): SchedulerType {
  const reactive = jobGraph.config.reactive ?? opts.reactive ?? false;
  const chosen = jobGraph.config.scheduler ?? (reactive ? "adaptive" : (opts.scheduler ?? "default"));
  if (chosen === "adaptive" && isBatchJob(jobGraph)) return "adaptive-batch";
  return chosen;
}

/** Builds the job's ExecutionGraph and its scheduler. */
export function createScheduler(
  submitted: JobGraph,
  ctx: SchedulerContext,
  log: Logger,
  opts: SchedulerFactoryOptions = {},
): { graph: ExecutionGraph; scheduler: JobScheduler; type: SchedulerType } {
  // The adaptive schedulers replace vertices (new parallelism) in the graph's own vertex list.
  const jobGraph: JobGraph = { ...submitted, vertices: [...submitted.vertices] };
  const type = schedulerTypeOf(jobGraph, opts);
  switch (type) {
    case "adaptive": {
      const graph = new ExecutionGraph(jobGraph);
      const reactive = jobGraph.config.reactive ?? opts.reactive ?? false;
      const settings = adaptiveSchedulerSettings({ ...opts.adaptive, reactive });
      return { graph, scheduler: new AdaptiveScheduler(graph, ctx, log, settings), type };
    }
    case "adaptive-batch": {
      const graph = new ExecutionGraph(jobGraph, dynamicVerticesOf(jobGraph));
      return { graph, scheduler: new AdaptiveBatchScheduler(graph, ctx, log, opts), type };
    }
    default: {
      const graph = new ExecutionGraph(jobGraph);
      return { graph, scheduler: new DefaultScheduler(graph, ctx, log, opts), type };
    }
  }
}
