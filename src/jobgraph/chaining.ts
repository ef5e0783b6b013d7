/**
 * Operator chaining (Flink's StreamingJobGraphGenerator.isChainable): vertices joined by a plain
 * one-to-one connection are fused into one vertex that runs them in one task (`eddy.chain`), so their
 * records never cross the network stack.
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import { CHAIN_INVOKABLE, isChainInvokable, type ChainMember, type ChainingLookup } from "./catalog.js";
import type { JobEdge, JobGraph, JobVertex } from "./types.js";

/** Why an edge may be chained: every rule of {@link isChainableEdge}, given the vertices' degrees. */
export interface ChainingContext {
  source: JobVertex;
  target: JobVertex;
  /** Outgoing edges of `source`. */
  sourceOutDegree: number;
  /** Incoming edges of `target`. */
  targetInDegree: number;
}

/**
 * Flink's chaining rules, one per clause: the edge is `forward`, PIPELINED and carries the main output
 * (a chain hands one stream from member to member), both vertices have the
 * same parallelism, max parallelism and slot sharing group, the upstream vertex has exactly one
 * outgoing edge and the downstream vertex exactly one incoming edge, neither sets `chaining: false`,
 * and the downstream vertex does not start a new chain (`chaining: "head"`).
 */
export function isChainableEdge(edge: JobEdge, c: ChainingContext): boolean {
  const { source: s, target: t } = c;
  return (
    edge.partitioner === "forward" &&
    edge.output === undefined &&
    edge.resultPartitionType === "PIPELINED" &&
    s.parallelism === t.parallelism &&
    s.maxParallelism === t.maxParallelism &&
    s.slotSharingGroup === t.slotSharingGroup &&
    c.sourceOutDegree === 1 &&
    c.targetInDegree === 1 &&
    s.chaining !== false &&
    t.chaining !== false &&
    t.chaining !== "head"
  );
}

/** The members a vertex contributes to a chain: itself, or the members of a chain vertex. */
function membersOf(v: JobVertex): ChainMember[] {
  if (v.invokable === CHAIN_INVOKABLE && Array.isArray(v.config.members)) return v.config.members as ChainMember[];
  return [{ id: v.id, name: v.name, invokable: v.invokable, config: v.config }];
}

/**
 * Fuses chains of vertices (by the rules of {@link isChainableEdge}) into single `eddy.chain` vertices:
 * id and placement of the head, name `"a -> b -> c"`, config `{members: [{id, name, invokable, config}]}`
 * head first. Edges into the head and out of the tail are kept, in order, with their partitioner and key,
 * now naming the chain vertex. A graph with nothing to chain is returned as is (the same object); the
 * input is never modified. O(vertices + edges).
 *
 * Only vertices the registry's `eddy.chain` can run as members are chained (for a graph with a bundle,
 * pass `graphInvokables(graph.bundle, registry)` so its declared invokables chain too; a registry
 * without `eddy.chain` chains nothing). Throws ValidationError (DanglingEdge, CyclicJobGraph) on a graph whose edges
 * name missing vertices or that has a cycle — `graph` is meant to be the output of `validateJobGraph`.
 */
export function chainOperators(graph: JobGraph, registry: ChainingLookup): JobGraph {
  const chain = registry.get(CHAIN_INVOKABLE);
  if (!chain || graph.vertices.length < 2) return graph;
  const canRun = (v: JobVertex): boolean =>
    v.invokable === CHAIN_INVOKABLE || (isChainInvokable(chain) ? chain.memberFactory(v.invokable) : registry.get(v.invokable)) !== undefined;

  const byId = new Map<string, JobVertex>();
  const outDegree = new Map<string, number>();
  const inDegree = new Map<string, number>();
  for (const v of graph.vertices) {
    byId.set(v.id, v);
    outDegree.set(v.id, 0);
    inDegree.set(v.id, 0);
  }
  for (const e of graph.edges) {
    if (!byId.has(e.source) || !byId.has(e.target)) {
      throw new ValidationError(
        ErrorCode.DanglingEdge,
        `edge ${e.source} -> ${e.target} names a vertex the JobGraph does not have; chain a validated JobGraph`,
        {
          details: { source: e.source, target: e.target },
        },
      );
    }
    outDegree.set(e.source, outDegree.get(e.source)! + 1);
    inDegree.set(e.target, inDegree.get(e.target)! + 1);
  }

  // The chainable edge leaving each vertex, if any (a vertex with one outgoing edge has at most one).
  const next = new Map<string, string>();
  const chained = new Set<JobEdge>();
  for (const e of graph.edges) {
    const source = byId.get(e.source)!;
    const target = byId.get(e.target)!;
    if (!canRun(source) || !canRun(target)) continue;
    if (isChainableEdge(e, { source, target, sourceOutDegree: outDegree.get(e.source)!, targetInDegree: inDegree.get(e.target)! })) {
      next.set(e.source, e.target);
      chained.add(e);
    }
  }
  if (next.size === 0) return graph;

  // Heads: vertices no chainable edge leads into. Each chain is walked once from its head.
  const inner = new Set(next.values());
  const headOf = new Map<string, string>();
  const vertices: JobVertex[] = [];
  for (const head of graph.vertices) {
    if (inner.has(head.id)) continue;
    headOf.set(head.id, head.id);
    if (!next.has(head.id)) {
      vertices.push(head);
      continue;
    }
    const members: ChainMember[] = [...membersOf(head)];
    const names: string[] = [head.name];
    for (let id = next.get(head.id); id !== undefined; id = next.get(id)) {
      const v = byId.get(id)!;
      headOf.set(id, head.id);
      for (const m of membersOf(v)) members.push(m);
      names.push(v.name);
    }
    const fused: JobVertex = {
      id: head.id,
      name: names.join(" -> "),
      invokable: CHAIN_INVOKABLE,
      parallelism: head.parallelism,
      maxParallelism: head.maxParallelism,
      slotSharingGroup: head.slotSharingGroup,
      ...(head.coLocationGroup !== undefined ? { coLocationGroup: head.coLocationGroup } : {}),
      config: { members },
    };
    if (head.chaining !== undefined) fused.chaining = true;
    vertices.push(fused);
  }

  if (headOf.size !== graph.vertices.length) {
    throw new ValidationError(ErrorCode.CyclicJobGraph, "the JobGraph has a cycle of forward edges; chain a validated (acyclic) JobGraph");
  }

  // Edges between chains: in order, sources renamed to their chain (targets are always heads).
  const edges: JobEdge[] = [];
  for (const e of graph.edges) {
    if (chained.has(e)) continue;
    const source = headOf.get(e.source)!;
    edges.push(source === e.source ? e : { ...e, source });
  }
  return { ...graph, vertices, edges };
}
