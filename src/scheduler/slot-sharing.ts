import type { ExecutionGraph } from "../executiongraph/execution-graph.js";
import type { ExecutionVertex } from "../executiongraph/execution-vertex.js";

/**
 * Slot sharing (Flink's SlotSharingGroup): subtask i of every vertex in one group shares the
 * group's i-th slot, so a group needs as many slots as its highest parallelism.
 */
export class SlotSharingPlan {
  /** Slots needed per group, in first-seen order. */
  readonly groups = new Map<string, number>();

  constructor(graph: ExecutionGraph) {
    for (const ejv of graph.jobVertices.values()) {
      const g = ejv.jobVertex.slotSharingGroup;
      this.groups.set(g, Math.max(this.groups.get(g) ?? 0, ejv.parallelism));
    }
  }

  /** Total slots the job needs. */
  get totalSlots(): number {
    let n = 0;
    for (const c of this.groups.values()) n += c;
    return n;
  }

  /** The position (0..totalSlots-1) of the shared slot `ev` runs in. */
  slotIndexOf(ev: ExecutionVertex): number {
    let base = 0;
    const g = ev.jobVertex.jobVertex.slotSharingGroup;
    for (const [name, count] of this.groups) {
      if (name === g) return base + (ev.subtaskIndex % count);
      base += count;
    }
    throw new Error(`unknown slot sharing group ${g}`);
  }
}
