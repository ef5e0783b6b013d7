import type { JobGraph, PartitionerType } from "../../src/jobgraph/types.js";
import { newId } from "../../src/core/ids.js";

/** A validated-shape JobGraph for tests that bypass the Dispatcher's validation. */
export function graph(
  vertices: Array<{ id: string; parallelism: number; invokable?: string; slotSharingGroup?: string; config?: Record<string, unknown> }>,
  edges: Array<{ source: string; target: string; partitioner: PartitionerType; key?: number }>,
): JobGraph {
  return {
    jobId: newId(),
    name: "test",
    vertices: vertices.map((v) => ({
      id: v.id,
      name: v.id,
      invokable: v.invokable ?? "op.identity",
      parallelism: v.parallelism,
      maxParallelism: 128,
      slotSharingGroup: v.slotSharingGroup ?? "default",
      config: v.config ?? {},
    })),
    edges: edges.map((e) => ({
      ...e,
      distribution: e.partitioner === "forward" || e.partitioner === "rescale" ? "POINTWISE" : "ALL_TO_ALL",
      resultPartitionType: "PIPELINED",
    })),
    config: { bufferTimeoutMs: 100, bufferRecords: 1024 },
  };
}
