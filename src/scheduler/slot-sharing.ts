import type { ExecutionVertex } from "../executiongraph/execution-vertex.js";
import type { PipelinedRegion } from "./failover/pipelined-region.js";

const cache = new WeakMap<PipelinedRegion, Map<string, ExecutionVertex[]>>();

/**
 * Slot sharing and co-location (Flink's SlotSharingGroup / CoLocationGroup): within a region,
 * subtask i of every vertex of one slot sharing group shares that group's i-th slot, so a region
 * needs as many slots per group as the group's highest parallelism in it, and subtasks with the same
 * index are always placed together. Returns the sharing key → its subtasks (computed once per region).
 */
export function slotSharingKeys(region: PipelinedRegion): Map<string, ExecutionVertex[]> {
  const cached = cache.get(region);
  if (cached) return cached;
  const keys = new Map<string, ExecutionVertex[]>();
  for (const ev of region.vertices) {
    const k = `${ev.jobVertex.jobVertex.slotSharingGroup}\u0000${ev.subtaskIndex}`;
    const list = keys.get(k);
    if (list) list.push(ev);
    else keys.set(k, [ev]);
  }
  cache.set(region, keys);
  return keys;
}
