import type { ExecutionGraph } from "../executiongraph/execution-graph.js";
import type { ExecutionVertex } from "../executiongraph/execution-vertex.js";
import type { IntermediateResultPartition } from "../executiongraph/intermediate-result.js";

/**
 * A set of subtasks connected by PIPELINED data exchanges (Flink's SchedulingPipelinedRegion):
 * scheduled together, failed over together. BLOCKING exchanges are the borders between regions.
 */
export class PipelinedRegion {
  readonly vertices: ExecutionVertex[] = [];
  /** BLOCKING partitions this region reads: it can run once all of them are complete. */
  readonly blockingInputs = new Set<IntermediateResultPartition>();
  /** Regions that read a BLOCKING partition produced here. */
  readonly consumers = new Set<PipelinedRegion>();
  /** Regions whose BLOCKING partitions are read here. */
  readonly producers = new Set<PipelinedRegion>();
  constructor(readonly id: number) {}
}

/** The regions of an ExecutionGraph and the region of every subtask. */
export class RegionTopology {
  readonly regions: PipelinedRegion[];
  private readonly byVertex: Map<ExecutionVertex, PipelinedRegion>;

  constructor(regions: PipelinedRegion[], byVertex: Map<ExecutionVertex, PipelinedRegion>) {
    this.regions = regions;
    this.byVertex = byVertex;
  }

  regionOf(ev: ExecutionVertex): PipelinedRegion {
    return this.byVertex.get(ev)!;
  }

  /** Regions without BLOCKING inputs: where scheduling starts. */
  sources(): PipelinedRegion[] {
    return this.regions.filter((r) => r.blockingInputs.size === 0);
  }
}

/**
 * Computes the pipelined regions in O(subtasks + partitions): a union-find over subtasks joined by
 * PIPELINED edges (an ALL_TO_ALL edge joins all producers and consumers through the partition
 * group, never pair by pair), then regions whose BLOCKING dependencies form a cycle are merged so
 * the region graph is a DAG (as Flink's SchedulingPipelinedRegionComputeUtil does).
 */
export function computePipelinedRegions(graph: ExecutionGraph): RegionTopology {
  const vertices = [...graph.vertices()];
  const index = new Map<ExecutionVertex, number>();
  vertices.forEach((v, i) => index.set(v, i));
  const parent = vertices.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[ra] = rb;
  };
  for (const result of graph.results) {
    if (result.resultPartitionType !== "PIPELINED") continue;
    if (result.edge.distribution === "ALL_TO_ALL") {
      const anchor = index.get(result.consumer.taskVertices[0]!)!;
      for (const ev of result.producer.taskVertices) union(index.get(ev)!, anchor);
      for (const ev of result.consumer.taskVertices) union(index.get(ev)!, anchor);
    } else {
      for (const ev of result.consumer.taskVertices)
        for (const g of ev.consumedPartitionGroups) if (g.result === result) for (const p of g.partitions) union(index.get(p.producer)!, index.get(ev)!);
    }
  }
  let roots = vertices.map((_, i) => find(i));
  roots = mergeCycles(graph, vertices, index, roots);
  const byRoot = new Map<number, PipelinedRegion>();
  const byVertex = new Map<ExecutionVertex, PipelinedRegion>();
  const regions: PipelinedRegion[] = [];
  vertices.forEach((v, i) => {
    let r = byRoot.get(roots[i]!);
    if (!r) {
      r = new PipelinedRegion(regions.length);
      regions.push(r);
      byRoot.set(roots[i]!, r);
    }
    r.vertices.push(v);
    byVertex.set(v, r);
  });
  for (const region of regions)
    for (const ev of region.vertices)
      for (const g of ev.consumedPartitionGroups) {
        if (g.result.resultPartitionType !== "BLOCKING") continue;
        for (const p of g.partitions) {
          const producer = byVertex.get(p.producer)!;
          if (producer === region) continue; // produced and read inside one region: deployed together
          region.blockingInputs.add(p);
          producer.consumers.add(region);
          region.producers.add(producer);
        }
      }
  return new RegionTopology(regions, byVertex);
}

/** Merges groups of regions whose BLOCKING dependencies are cyclic (Tarjan's SCC on the region graph). */
function mergeCycles(graph: ExecutionGraph, vertices: ExecutionVertex[], index: Map<ExecutionVertex, number>, roots: number[]): number[] {
  const edges = new Map<number, Set<number>>();
  let any = false;
  for (const result of graph.results) {
    if (result.resultPartitionType !== "BLOCKING") continue;
    for (const ev of result.consumer.taskVertices)
      for (const g of ev.consumedPartitionGroups) {
        if (g.result !== result) continue;
        const to = roots[index.get(ev)!]!;
        for (const p of g.partitions) {
          const from = roots[index.get(p.producer)!]!;
          if (from === to) {
            any = true;
            continue;
          }
          let s = edges.get(from);
          if (!s) edges.set(from, (s = new Set()));
          s.add(to);
        }
        if (result.edge.distribution === "ALL_TO_ALL") break; // the group is shared: once is enough
      }
  }
  if (!any && edges.size === 0) return roots;
  const nodes = [...new Set(roots)];
  const idx = new Map<number, number>();
  const low = new Map<number, number>();
  const onStack = new Set<number>();
  const stack: number[] = [];
  const comp = new Map<number, number>();
  let counter = 0;
  const strong = (v: number) => {
    // iterative Tarjan
    const work: Array<{ v: number; it: Iterator<number> }> = [{ v, it: (edges.get(v) ?? new Set<number>()).values() }];
    idx.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    while (work.length) {
      const top = work[work.length - 1]!;
      const n = top.it.next();
      if (!n.done) {
        const w = n.value;
        if (!idx.has(w)) {
          idx.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, it: (edges.get(w) ?? new Set<number>()).values() });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, idx.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const p = work[work.length - 1]!.v;
        low.set(p, Math.min(low.get(p)!, low.get(top.v)!));
      }
      if (low.get(top.v) === idx.get(top.v)) {
        for (;;) {
          const w = stack.pop()!;
          onStack.delete(w);
          comp.set(w, top.v);
          if (w === top.v) break;
        }
      }
    }
  };
  for (const n of nodes) if (!idx.has(n)) strong(n);
  return roots.map((r) => comp.get(r) ?? r);
}
