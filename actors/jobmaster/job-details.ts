import type { ExecutionGraph } from "../../src/executiongraph/execution-graph.js";
import type { JobDetails } from "./protocol.js";
import type { PartitionerType } from "../../src/jobgraph/types.js";
import { emptyCheckpointStats } from "../../src/checkpoint/index.js";
import { EXECUTION_STATES } from "../../src/executiongraph/execution-state.js";
import type { CheckpointStatsView, ExceptionHistoryView, JobPlanView, ShipStrategy } from "../../schemas/dispatcher-api.js";

/** The `requestJob` view of an ExecutionGraph (Flink's JobDetailsInfo, trimmed). */
export function jobDetails(graph: ExecutionGraph, startTime: number, endTime: number | null, checkpoints?: JobDetails["checkpoints"]): JobDetails {
  return {
    id: graph.jobId,
    name: graph.jobName,
    state: graph.state,
    startTime,
    endTime,
    timestamps: { ...graph.statusTimestamps } as Record<string, number>,
    failure: graph.failureCause ?? null,
    vertices: [...graph.jobVertices.values()].map((ejv) => ({
      id: ejv.id,
      name: ejv.name,
      parallelism: ejv.parallelism,
      maxParallelism: ejv.maxParallelism,
      state: ejv.aggregateState(),
      subtasks: ejv.taskVertices.map((ev) => {
        const e = ev.currentExecution;
        return {
          index: ev.subtaskIndex,
          state: e.state,
          attempt: e.attemptNumber,
          taskExecutor: e.slot?.taskExecutorId ?? null,
          ...(e.slot && !e.isTerminal ? { slot: e.slot.slotIndex } : {}),
          timestamps: { ...e.stateTimestamps } as Record<string, number>,
        };
      }),
    })),
    checkpoints: checkpoints ? { ...checkpoints, latest: checkpoints.latest && { ...checkpoints.latest } } : { completed: 0, failed: 0, latest: null },
  };
}

const SHIP: Record<PartitionerType, ShipStrategy> = {
  forward: "FORWARD",
  hash: "HASH",
  rebalance: "REBALANCE",
  rescale: "RESCALE",
  broadcast: "BROADCAST",
};

/** The job's plan (Flink's JobPlanInfo): its (chained) vertices, each with its inputs and their ship strategy. */
export function jobPlan(graph: ExecutionGraph): JobPlanView {
  const jg = graph.jobGraph;
  return {
    jid: graph.jobId,
    name: graph.jobName,
    nodes: [...graph.jobVertices.values()].map((ejv) => {
      const v = ejv.jobVertex;
      const members = v.invokable === "eddy.chain" ? ((v.config.members ?? []) as Array<{ name?: string; id: string }>) : [];
      return {
        id: ejv.id,
        description: members.length ? members.map((m) => m.name ?? m.id).join(" -> ") : ejv.name,
        parallelism: ejv.parallelism,
        maxParallelism: ejv.maxParallelism,
        operator: v.invokable,
        inputs: jg.edges
          .filter((e) => e.target === ejv.id)
          .map((e, num) => ({
            num,
            id: e.source,
            ship_strategy: SHIP[e.partitioner],
            exchange: e.resultPartitionType === "BLOCKING" ? "blocking" : "pipelined",
          })),
      };
    }),
  };
}

/** What the REST API reads of a job besides its details: failures, checkpoints, plan. */
export interface JobViews {
  exceptions: ExceptionHistoryView;
  checkpoints: CheckpointStatsView;
  plan: JobPlanView;
}

/** The views of a job known only from its result (or still being recovered): nothing recorded, no plan. */
export function emptyJobViews(jobId: string, name: string): JobViews {
  return { exceptions: { entries: [], truncated: false }, checkpoints: emptyCheckpointStats(), plan: { jid: jobId, name, nodes: [] } };
}

/** The subtasks of `vertices` counted by state (every execution state, zeros included) and in `total`. */
export function taskCounts(vertices: JobDetails["vertices"]): Record<string, number> {
  const out: Record<string, number> = { total: 0 };
  for (const st of EXECUTION_STATES) out[st] = 0;
  for (const v of vertices)
    for (const st of v.subtasks) {
      out[st.state] = (out[st.state] ?? 0) + 1;
      out.total!++;
    }
  return out;
}
