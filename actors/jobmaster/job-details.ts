import type { ExecutionGraph } from "../../src/executiongraph/execution-graph.js";
import type { JobDetails } from "./protocol.js";

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
          timestamps: { ...e.stateTimestamps } as Record<string, number>,
        };
      }),
    })),
    checkpoints: checkpoints ? { ...checkpoints, latest: checkpoints.latest && { ...checkpoints.latest } } : { completed: 0, failed: 0, latest: null },
  };
}
