import type { ExecutionGraph } from "../../executiongraph/execution-graph.js";
import type { ExecutionVertex } from "../../executiongraph/execution-vertex.js";
import type { ConsumedPartitionGroup } from "../../executiongraph/intermediate-result.js";

/**
 * A set of subtasks connected by PIPELINED data exchanges (Flink's SchedulingPipelinedRegion):
 * scheduled together, failed over together. BLOCKING exchanges are the borders between regions;
 * they are tracked by partition group, never partition by partition, so an ALL_TO_ALL border costs
 * O(producers + consumers).
 */
export class PipelinedRegion {
  readonly vertices: ExecutionVertex[] = [];
  /** BLOCKING groups read here and produced (at least partly) in other regions: the region runs once they are complete. */
  readonly inputGroups = new Set<ConsumedPartitionGroup>();
  /** BLOCKING groups produced (at least partly) here and read in other regions. */
  readonly outputGroups = new Set<ConsumedPartitionGroup>();
  constructor(readonly id: number) {}
}

/** The regions of an ExecutionGraph, the region of every subtask, and the readers of each BLOCKING group. */
export class RegionTopology {
  constructor(
    readonly regions: PipelinedRegion[],
    private readonly byVertex: Map<ExecutionVertex, PipelinedRegion>,
    private readonly readers: Map<ConsumedPartitionGroup, PipelinedRegion[]>,
  ) {}

  regionOf(ev: ExecutionVertex): PipelinedRegion {
    return this.byVertex.get(ev)!;
  }

  /** Regions that read `g` and did not produce all of it themselves. */
  consumerRegionsOf(g: ConsumedPartitionGroup): readonly PipelinedRegion[] {
    return this.readers.get(g) ?? [];
  }

  /** Regions without BLOCKING inputs: where scheduling starts. */
  sources(): PipelinedRegion[] {
    return this.regions.filter((r) => r.inputGroups.size === 0);
  }
}

/**
 * Computes the pipelined regions in O(subtasks + partitions): a union-find over subtasks joined by
 * PIPELINED edges (an ALL_TO_ALL edge joins all producers and consumers through one anchor, never
 * pair by pair); then regions whose BLOCKING dependencies form a cycle are merged (Tarjan's SCC over
 * regions and partition groups) so the region graph is a DAG, as Flink's
 * SchedulingPipelinedRegionComputeUtil does.
 */
export function computePipelinedRegions(graph: ExecutionGraph): RegionTopology {
  const vertices = [...graph.vertices()];
  const index = new Map<ExecutionVertex, number>();
  vertices.forEach((v, i) => index.set(v, i));
  const uf = new UnionFind(vertices.length);
  const blockingGroups: ConsumedPartitionGroup[] = [];
  for (const result of graph.results) {
    if (result.resultPartitionType !== "PIPELINED") {
      blockingGroups.push(...result.groups);
      continue;
    }
    for (const g of result.groups) {
      const anchor = index.get(g.consumers[0]!)!;
      for (const c of g.consumers) uf.union(index.get(c)!, anchor);
      for (const p of g.partitions) uf.union(index.get(p.producer)!, anchor);
    }
  }
  // Co-located subtasks (same co-location group, same index) must share a slot: keep them in one region.
  const coLocated = new Map<string, ExecutionVertex[]>();
  for (const ejv of graph.jobVertices.values()) {
    const g = ejv.jobVertex.coLocationGroup;
    if (g === undefined) continue;
    const anchors = coLocated.get(g);
    if (!anchors) coLocated.set(g, ejv.taskVertices);
    else ejv.taskVertices.forEach((ev, i) => anchors[i] && uf.union(index.get(ev)!, index.get(anchors[i]!)!));
  }
  mergeBlockingCycles(blockingGroups, index, uf, vertices.length);

  const byRoot = new Map<number, PipelinedRegion>();
  const byVertex = new Map<ExecutionVertex, PipelinedRegion>();
  const regions: PipelinedRegion[] = [];
  vertices.forEach((v, i) => {
    const root = uf.find(i);
    let r = byRoot.get(root);
    if (!r) byRoot.set(root, (r = new PipelinedRegion(regions.length))), regions.push(r);
    r.vertices.push(v);
    byVertex.set(v, r);
  });
  const readers = new Map<ConsumedPartitionGroup, PipelinedRegion[]>();
  for (const g of blockingGroups) {
    const producers = new Set(g.partitions.map((p) => byVertex.get(p.producer)!));
    const consumers = new Set(g.consumers.map((c) => byVertex.get(c)!));
    const internal = producers.size === 1 && consumers.size === 1 && [...producers][0] === [...consumers][0];
    if (internal) continue; // produced and read inside one region: deployed together, read while written
    for (const r of consumers) r.inputGroups.add(g);
    for (const r of producers) r.outputGroups.add(g);
    readers.set(g, [...consumers]);
  }
  return new RegionTopology(regions, byVertex, readers);
}

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n).map((_, i) => i);
  }
  find(i: number): number {
    const p = this.parent;
    while (p[i] !== i) i = p[i] = p[p[i]!]!;
    return i;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[ra] = rb;
  }
}

/**
 * Merges regions caught in a cycle of BLOCKING dependencies, including a region that reads a group
 * it partly produces itself. Nodes are regions (by root) and groups; edges producer → group → consumer.
 */
function mergeBlockingCycles(groups: ConsumedPartitionGroup[], index: Map<ExecutionVertex, number>, uf: UnionFind, n: number): void {
  if (!groups.length) return;
  const out = new Map<number, Set<number>>(); // node ids: roots 0..n-1, groups n..n+groups-1
  const add = (a: number, b: number) => {
    let s = out.get(a);
    if (!s) out.set(a, (s = new Set()));
    s.add(b);
  };
  groups.forEach((g, k) => {
    const node = n + k;
    for (const p of g.partitions) add(uf.find(index.get(p.producer)!), node);
    for (const c of g.consumers) add(node, uf.find(index.get(c)!));
  });
  for (const scc of stronglyConnected(out)) {
    const roots = scc.filter((x) => x < n);
    if (roots.length > 1) for (const r of roots) uf.union(r, roots[0]!);
    else if (roots.length === 1 && scc.length > 1) continue; // a region with only group nodes in its cycle cannot occur
  }
}

/** Tarjan's strongly connected components (iterative); returns the components of size > 1. */
function stronglyConnected(out: Map<number, Set<number>>): number[][] {
  const idx = new Map<number, number>();
  const low = new Map<number, number>();
  const onStack = new Set<number>();
  const stack: number[] = [];
  const result: number[][] = [];
  let counter = 0;
  const nodes = new Set<number>(out.keys());
  for (const s of out.values()) for (const x of s) nodes.add(x);
  for (const start of nodes) {
    if (idx.has(start)) continue;
    const work: Array<{ v: number; it: Iterator<number> }> = [];
    const visit = (v: number) => {
      idx.set(v, counter);
      low.set(v, counter++);
      stack.push(v);
      onStack.add(v);
      work.push({ v, it: (out.get(v) ?? new Set<number>()).values() });
    };
    visit(start);
    while (work.length) {
      const top = work[work.length - 1]!;
      const next = top.it.next();
      if (!next.done) {
        const w = next.value;
        if (!idx.has(w)) visit(w);
        else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, idx.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]!.v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === idx.get(top.v)) {
        const comp: number[] = [];
        for (;;) {
          const w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
          if (w === top.v) break;
        }
        if (comp.length > 1) result.push(comp);
      }
    }
  }
  return result;
}
