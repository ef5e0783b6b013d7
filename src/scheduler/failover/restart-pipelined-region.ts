import type { ExecutionVertex } from "../../executiongraph/execution-vertex.js";
import type { PipelinedRegion, RegionTopology } from "./pipelined-region.js";
import type { FailoverStrategy } from "./failover-strategy.js";

/**
 * A failure restarts the failed subtask's pipelined region and every region downstream of it
 * through BLOCKING results, which must read the regenerated data again (Flink's
 * RestartPipelinedRegionFailoverStrategy). Upstream regions are not restarted: their BLOCKING
 * partitions are kept in JetStream and stay readable. Regions not yet started are included only so
 * that they are reset; they lose nothing. Linear in regions and partition groups.
 */
export class RestartPipelinedRegionFailoverStrategy implements FailoverStrategy {
  readonly name = "region";
  constructor(private readonly topology: RegionTopology) {}

  tasksToRestart(failed: ExecutionVertex): Set<ExecutionVertex> {
    const out = new Set<ExecutionVertex>();
    for (const r of this.regionsToRestart(this.topology.regionOf(failed))) for (const v of r.vertices) out.add(v);
    return out;
  }

  /** The failed region and its transitive BLOCKING consumers. */
  regionsToRestart(start: PipelinedRegion): Set<PipelinedRegion> {
    const seen = new Set<PipelinedRegion>([start]);
    const groups = new Set<unknown>();
    const queue = [start];
    while (queue.length) {
      const r = queue.pop()!;
      for (const g of r.outputGroups) {
        if (groups.has(g)) continue;
        groups.add(g);
        for (const c of this.topology.consumerRegionsOf(g)) if (!seen.has(c)) seen.add(c), queue.push(c);
      }
    }
    return seen;
  }
}
