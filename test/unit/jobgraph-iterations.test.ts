/**
 * Iterations in the JobGraph: a cycle is accepted only through an edge declared `feedback: true` from an
 * iteration tail to its head, co-located, forward, and closing a real loop; every vertex that uses an
 * iteration channel must have its declared edge. The actor application is the iteration users build.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ActorApplicationBuilder, defineActor } from "../../src/actor-sdk/index.js";
import { StreamExecutionEnvironment } from "../../src/sdk/index.js";
import { validateJobGraph, type JobEdgeSpec, type JobGraphSpec } from "../../src/jobgraph/index.js";
import { ErrorCode, ValidationError } from "../../src/core/errors.js";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";

const counter = defineActor<number, number>({
  type: "counter",
  initialState: 0,
  onMessage(ctx, m) {
    ctx.state = ctx.state + m;
    if (m > 1) ctx.send({ type: "counter", id: String(m - 1) }, m - 1);
  },
});

/** An actor application's JobGraph at parallelism 2, as `eddy run` would submit it. */
function actorGraph(): JobGraphSpec {
  const env = new StreamExecutionEnvironment("Iteration", { parallelism: 2 });
  new ActorApplicationBuilder("Counters")
    .withIngress(env.fromElements(3, 4), (n: number) => ({ to: { type: "counter", id: String(n) }, body: n }))
    .withActor(counter)
    .build();
  return env.build();
}

const isFeedback = (e: JobEdgeSpec) => e.feedback === true;

function rejects(spec: JobGraphSpec, code: string, message: RegExp): void {
  assert.throws(
    () => validateJobGraph(spec, builtinRegistry),
    (e: unknown) => e instanceof ValidationError && e.code === code && message.test(e.message),
  );
}

/** The graph with its feedback edge changed by `edit` (the edge is found, not assumed to be last). */
function withFeedback(edit: (e: JobEdgeSpec, g: JobGraphSpec) => void): JobGraphSpec {
  const g = structuredClone(actorGraph());
  edit(g.edges.find(isFeedback)!, g);
  return g;
}

test("an actor application declares its loop as a feedback edge from the feedback vertex to the actors", () => {
  const spec = actorGraph();
  const feedback = spec.edges.filter(isFeedback);
  assert.equal(feedback.length, 1);
  const byId = new Map(spec.vertices.map((v) => [v.id, v]));
  assert.equal(byId.get(feedback[0]!.source)!.invokable, "eddy.actors.feedback");
  assert.equal(byId.get(feedback[0]!.target)!.invokable, "eddy.actors.dispatch");
  assert.equal(feedback[0]!.partitioner, "forward");

  const g = validateJobGraph(spec, builtinRegistry);
  assert.equal(g.feedbackEdges?.length, 1);
  const [edge] = g.feedbackEdges!;
  assert.equal(edge!.source, feedback[0]!.source);
  assert.equal(edge!.target, feedback[0]!.target);
  assert.equal(byId.get(edge!.source)!.coLocationGroup, byId.get(edge!.target)!.coLocationGroup);
  // The data edges stay acyclic and hold no feedback edge; the way forward (a hash edge) is among them.
  assert.ok(!g.edges.some((e) => e.source === edge!.source && e.target === edge!.target));
  assert.ok(g.edges.some((e) => e.source === edge!.target && e.target === edge!.source && e.partitioner === "hash"));
  // Topological order follows the data edges: the actors come before their feedback vertex.
  const order = g.vertices.map((v) => v.id);
  assert.ok(order.indexOf(edge!.target) < order.indexOf(edge!.source));
});

test("the same loop without the feedback declaration is a cycle, and the error says how to declare it", () => {
  const g = withFeedback((e) => {
    delete e.feedback;
  });
  rejects(g, ErrorCode.CyclicJobGraph, /declared feedback: true from an iteration's tail to its head/);
});

test("a vertex that uses an iteration channel needs its declared edge", () => {
  const g = withFeedback((e, spec) => {
    spec.edges.splice(spec.edges.indexOf(e), 1);
  });
  rejects(g, ErrorCode.InvalidJobGraph, /iteration (head|tail) but no feedback edge (ends|starts) at it/);
});

test("a feedback edge is forward and pipelined", () => {
  rejects(
    withFeedback((e) => {
      e.partitioner = "rebalance";
    }),
    ErrorCode.InvalidJobGraph,
    /feedback edge is forward and pipelined/,
  );
  rejects(
    withFeedback((e) => {
      e.resultPartitionType = "BLOCKING";
    }),
    ErrorCode.InvalidJobGraph,
    /feedback edge is forward and pipelined/,
  );
});

test("the ends of a feedback edge share the co-location group their configs name", () => {
  rejects(
    withFeedback((e, g) => {
      delete g.vertices.find((v) => v.id === e.source)!.coLocationGroup;
    }),
    ErrorCode.InvalidJobGraph,
    /must share a co-location group/,
  );
  rejects(
    withFeedback((_e, g) => {
      for (const v of g.vertices) if (v.coLocationGroup !== undefined) v.coLocationGroup = "elsewhere";
    }),
    ErrorCode.InvalidJobGraph,
    /does not use the channel of co-location group "elsewhere"/,
  );
});

test("only an iteration tail may start a feedback edge and only a head may end one", () => {
  const spec: JobGraphSpec = {
    name: "not an iteration",
    vertices: [
      { id: "s", invokable: "source.sequence", parallelism: 1, config: { from: 1, to: 3 }, coLocationGroup: "g" },
      { id: "k", invokable: "sink.discard", parallelism: 1, coLocationGroup: "g" },
    ],
    edges: [
      { source: "s", target: "k", partitioner: "forward" },
      { source: "k", target: "s", partitioner: "forward", feedback: true },
    ],
  };
  rejects(spec, ErrorCode.InvalidJobGraph, /vertex "k" \(sink.discard\) cannot be an iteration tail/);
});

test("a feedback edge must close a loop through data edges", () => {
  // The actors' way forward to the feedback vertex replaced by an edge from the ingress: the feedback
  // edge then leads back to vertices that never reach it.
  const g = withFeedback((e, graph) => {
    const forward = graph.edges.find((x) => x.source === e.target && x.target === e.source && x.feedback !== true)!;
    graph.edges.splice(graph.edges.indexOf(forward), 1);
    graph.edges.push({ source: graph.vertices[0]!.id, target: e.source, partitioner: "rebalance" });
  });
  rejects(g, ErrorCode.InvalidJobGraph, /does not reach .* through data edges, so this edge closes no iteration/);
});
