import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chainOperators, validateJobGraph } from "../../src/jobgraph/index.js";
import type { JobGraph, JobGraphSpec, JobVertex, JobVertexSpec } from "../../src/jobgraph/index.js";
import { JobBuilder } from "../../src/sdk/index.js";
import { EddyError, ErrorCode, ValidationError } from "../../src/core/errors.js";
import {
  builtinInvokables,
  builtinRegistry,
  ChainHandoff,
  type ChainInvokable,
  createChainFactory,
  InvokableRegistry,
  CHAIN_INVOKABLE,
  type ChainMember,
} from "../../src/runtime/invokables/index.js";
import type { InvokableFactory, TaskContext } from "../../src/runtime/api.js";
import { createHarness, runInvokable } from "../helpers/task-harness.js";

const chain = builtinRegistry.lookup(CHAIN_INVOKABLE);
const f = (name: string) => builtinInvokables.get(name)!;

// ---------------------------------------------------------------- chainOperators

const seq = (id: string, p = 2, extra: Partial<JobVertexSpec> = {}): JobVertexSpec => ({
  id,
  invokable: "source.sequence",
  parallelism: p,
  config: { from: 1, to: 10 },
  ...extra,
});
const op = (id: string, p = 2, extra: Partial<JobVertexSpec> = {}): JobVertexSpec => ({ id, invokable: "op.identity", parallelism: p, ...extra });
const sink = (id: string, p = 2, extra: Partial<JobVertexSpec> = {}): JobVertexSpec => ({ id, invokable: "sink.discard", parallelism: p, ...extra });

function spec(vertices: JobVertexSpec[], edges: JobGraphSpec["edges"]): JobGraphSpec {
  return { name: "chaining", vertices, edges };
}

const fwd = (source: string, target: string) => ({ source, target, partitioner: "forward" as const });
const reb = (source: string, target: string) => ({ source, target, partitioner: "rebalance" as const });

/** a (source) -forward-> b (operator) -rebalance-> k (sink): a and b chain. */
const baseSpec = (): JobGraphSpec => spec([seq("a"), op("b"), sink("k")], [fwd("a", "b"), reb("b", "k")]);

function members(v: JobVertex): string[] {
  assert.equal(v.invokable, CHAIN_INVOKABLE);
  return (v.config.members as ChainMember[]).map((m) => m.id);
}

test("chaining: a forward edge between equal vertices fuses them; the rest of the graph is rewired", () => {
  const g = validateJobGraph(baseSpec(), builtinRegistry);
  assert.equal(g.vertices[0]!.chaining, true, "validation defaults chaining to true");
  const c = chainOperators(g, builtinRegistry);
  assert.notEqual(c, g);
  assert.deepEqual(
    c.vertices.map((v) => v.id),
    ["a", "k"],
  );
  const head = c.vertices[0]!;
  assert.equal(head.name, "a -> b");
  assert.deepEqual([head.parallelism, head.maxParallelism, head.slotSharingGroup, head.chaining], [2, 128, "default", true]);
  assert.deepEqual(head.config, {
    members: [
      { id: "a", name: "a", invokable: "source.sequence", config: { from: 1, to: 10 } },
      { id: "b", name: "b", invokable: "op.identity", config: {} },
    ],
  });
  assert.equal(c.vertices[1], g.vertices[2], "unchained vertices are kept as they are");
  assert.deepEqual(c.edges, [{ source: "a", target: "k", partitioner: "rebalance", distribution: "ALL_TO_ALL", resultPartitionType: "PIPELINED" }]);
  assert.deepEqual([c.jobId, c.name, c.config], [g.jobId, g.name, g.config]);
  assert.equal(g.vertices.length, 3, "the input graph is not modified");
  // The chain vertex runs: its config satisfies eddy.chain's validator.
  chain.validate(head.config, head.id);
});

test("chaining: each rule alone prevents chaining", () => {
  const base = validateJobGraph(baseSpec(), builtinRegistry);
  const [a, b, k] = base.vertices as [JobVertex, JobVertex, JobVertex];
  const variants: Record<string, JobGraph> = {
    "partitioner is not forward": validateJobGraph(spec([seq("a"), op("b"), sink("k")], [reb("a", "b"), reb("b", "k")]), builtinRegistry),
    "parallelism differs": { ...base, vertices: [a, { ...b, parallelism: 3 }, k] },
    "maxParallelism differs": validateJobGraph(
      spec([seq("a"), op("b", 2, { maxParallelism: 256 }), sink("k")], [fwd("a", "b"), reb("b", "k")]),
      builtinRegistry,
    ),
    "slot sharing group differs": validateJobGraph(
      spec([seq("a"), op("b", 2, { slotSharingGroup: "other" }), sink("k")], [fwd("a", "b"), reb("b", "k")]),
      builtinRegistry,
    ),
    "upstream has a second outgoing edge": validateJobGraph(
      spec([seq("a"), op("b"), sink("k"), sink("x")], [fwd("a", "b"), reb("b", "k"), reb("a", "x")]),
      builtinRegistry,
    ),
    "downstream has a second incoming edge": validateJobGraph(
      spec([seq("a"), op("b"), sink("k"), seq("y")], [fwd("a", "b"), reb("b", "k"), reb("y", "b")]),
      builtinRegistry,
    ),
    "edge is BLOCKING": validateJobGraph(
      spec([seq("a"), op("b"), sink("k")], [{ ...fwd("a", "b"), resultPartitionType: "BLOCKING" }, reb("b", "k")]),
      builtinRegistry,
    ),
    "upstream disables chaining": validateJobGraph(
      spec([seq("a", 2, { chaining: false }), op("b"), sink("k")], [fwd("a", "b"), reb("b", "k")]),
      builtinRegistry,
    ),
    "edge carries a side output": validateJobGraph(spec([seq("a"), op("b"), sink("k")], [{ ...fwd("a", "b"), output: 1 }, reb("b", "k")]), builtinRegistry),
    "downstream disables chaining": validateJobGraph(
      spec([seq("a"), op("b", 2, { chaining: false }), sink("k")], [fwd("a", "b"), reb("b", "k")]),
      builtinRegistry,
    ),
  };
  for (const [why, g] of Object.entries(variants)) {
    assert.equal(chainOperators(g, builtinRegistry), g, `${why}: the graph comes back unchanged`);
  }
});

test("chaining: WordCount chains source->tokenize->combiner and keyedSum->sink, not the hash edge", () => {
  const env = new JobBuilder("WordCount", { parallelism: 3 });
  env.readTextFile("/data/in.txt").tokenize().keyBy(0).sum(1).writeAsText("/data/out");
  const c = chainOperators(validateJobGraph(env.build(), builtinRegistry), builtinRegistry);
  assert.deepEqual(
    c.vertices.map((v) => [v.id, v.name, members(v)]),
    [
      ["textFile-0", "Source: readTextFile(/data/in.txt) -> Tokenize -> Combine Sum", ["textFile-0", "tokenize-1", "keyedSum-2"]],
      ["keyedSum-3", "Keyed Sum -> Sink: writeAsText(/data/out)", ["keyedSum-3", "textFile-4"]],
    ],
  );
  assert.deepEqual(c.edges, [
    { source: "textFile-0", target: "keyedSum-3", partitioner: "hash", key: 0, distribution: "ALL_TO_ALL", resultPartitionType: "PIPELINED" },
  ]);
  for (const v of c.vertices) chain.validate(v.config, v.id);
});

test("chaining: a chain of three, edges into the head and out of the tail rewired in order", () => {
  const g = validateJobGraph(
    spec(
      [seq("s"), op("h"), op("m"), op("t"), sink("k1"), sink("k2", 4)],
      [
        { source: "t", target: "k2", partitioner: "hash", key: 1 },
        fwd("m", "t"),
        reb("s", "h"),
        fwd("h", "m"),
        { source: "t", target: "k1", partitioner: "broadcast" },
      ],
    ),
    builtinRegistry,
  );
  const c = chainOperators(g, builtinRegistry);
  // The chain takes its head's place in the (topological) vertex order.
  assert.deepEqual(
    c.vertices.map((v) => v.id),
    g.vertices.map((v) => v.id).filter((id) => id !== "m" && id !== "t"),
  );
  assert.deepEqual(members(c.vertices[1]!), ["h", "m", "t"]);
  assert.equal(c.vertices[1]!.name, "h -> m -> t");
  assert.deepEqual(
    c.edges.map((e) => [e.source, e.target, e.partitioner, e.key]),
    [
      ["h", "k2", "hash", 1],
      ["s", "h", "rebalance", undefined],
      ["h", "k1", "broadcast", undefined],
    ],
  );
  assert.equal(chainOperators(c, builtinRegistry), c, "chaining a chained graph changes nothing");
});

test("chaining: a vertex with chaining: false splits a line into chains around it", () => {
  const g = validateJobGraph(
    spec(
      [seq("a"), op("b"), op("c", 2, { chaining: false }), op("d"), op("e"), sink("k")],
      [fwd("a", "b"), fwd("b", "c"), fwd("c", "d"), fwd("d", "e"), fwd("e", "k")],
    ),
    builtinRegistry,
  );
  const c = chainOperators(g, builtinRegistry);
  assert.deepEqual(
    c.vertices.map((v) => v.id),
    ["a", "c", "d"],
  );
  assert.deepEqual(members(c.vertices[0]!), ["a", "b"]);
  assert.equal(c.vertices[1], g.vertices[2]);
  assert.deepEqual(members(c.vertices[2]!), ["d", "e", "k"]);
  assert.deepEqual(
    c.edges.map((e) => `${e.source}>${e.target}`),
    ["a>c", "c>d"],
  );
  // The schema takes the field and refuses anything but a boolean.
  assert.throws(
    () => validateJobGraph(spec([seq("a", 1, { chaining: "no" as unknown as boolean }), sink("k", 1)], [fwd("a", "k")]), builtinRegistry),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidJobGraph && /chaining/.test(e.message),
  );
});

test("chaining: only invokables the registry's chain can run are chained", () => {
  const g = validateJobGraph(baseSpec(), builtinRegistry);
  const withoutChain = new Map([...builtinInvokables].filter(([n]) => n !== CHAIN_INVOKABLE));
  assert.equal(chainOperators(g, withoutChain), g);
  const reg = new InvokableRegistry(builtinRegistry).register({ ...f("op.identity"), name: "user.op" });
  const u = validateJobGraph(spec([seq("a"), op("b", 2, { invokable: "user.op" }), sink("k")], [fwd("a", "b"), fwd("b", "k")]), reg);
  assert.equal(chainOperators(u, reg), u, "the built-in chain cannot create user.op");
});

test("chaining: a long line is one chain, in linear time and without recursion", () => {
  const n = 20_000;
  const g: JobGraph = {
    jobId: "0".repeat(32),
    name: "line",
    vertices: Array.from({ length: n }, (_, i) => ({
      id: `v${i}`,
      name: `v${i}`,
      invokable: i === 0 ? "source.sequence" : "op.identity",
      parallelism: 1,
      maxParallelism: 128,
      slotSharingGroup: "default",
      config: {},
    })),
    edges: Array.from({ length: n - 1 }, (_, i) => ({
      source: `v${i}`,
      target: `v${i + 1}`,
      partitioner: "forward" as const,
      distribution: "POINTWISE" as const,
      resultPartitionType: "PIPELINED" as const,
    })),
    config: { bufferTimeoutMs: 100, bufferRecords: 1024 },
  };
  const t0 = performance.now();
  const c = chainOperators(g, builtinRegistry);
  assert.ok(performance.now() - t0 < 2000);
  assert.equal(c.vertices.length, 1);
  assert.equal((c.vertices[0]!.config.members as unknown[]).length, n);
  assert.deepEqual(c.edges, []);
});

// ---------------------------------------------------------------- ChainInvokable

const member = (id: string, invokable: string, config: Record<string, unknown> = {}): ChainMember => ({ id, name: id.toUpperCase(), invokable, config });

test("eddy.chain: resolvable in the built-in registry but not listed to job authors", () => {
  assert.equal(builtinRegistry.lookup(CHAIN_INVOKABLE), chain);
  assert.ok(!builtinRegistry.names().includes(CHAIN_INVOKABLE));
  assert.ok(![...builtinRegistry.keys()].includes(CHAIN_INVOKABLE));
  const bad = (config: Record<string, unknown>, code: string, re: RegExp) =>
    assert.throws(
      () => chain.validate(config, "c"),
      (e: unknown) => e instanceof ValidationError && e.code === code && re.test(e.message),
    );
  bad({}, ErrorCode.InvalidJobGraph, /members/);
  bad({ members: [member("a", "op.nope")] }, ErrorCode.UnknownInvokable, /op\.nope/);
  bad({ members: [member("a", "op.identity"), member("a", "op.identity")] }, ErrorCode.InvalidJobGraph, /twice/);
  bad({ members: [member("a", "op.identity"), member("b", "source.sequence", { from: 1, to: 2 })] }, ErrorCode.InvalidJobGraph, /head a chain/);
  bad({ members: [member("a", "sink.discard"), member("b", "op.identity")] }, ErrorCode.InvalidJobGraph, /end a chain/);
  bad({ members: [member("a", CHAIN_INVOKABLE)] }, ErrorCode.InvalidJobGraph, /itself a chain/);
  bad({ members: [member("a", "source.sequence", { to: 2 })] }, ErrorCode.InvalidJobGraph, /config\.from is required/);
  bad({ members: [member("a", "op.identity")], queueBatches: 0 }, ErrorCode.InvalidJobGraph, /queueBatches/);
});

test("eddy.chain: sequence -> identity -> discard counts every record under the members' own vertex ids", async () => {
  const n = 10_000;
  const h = await runInvokable(chain, {
    vertexId: "src",
    config: { members: [member("src", "source.sequence", { from: 1, to: n }), member("mid", "op.identity"), member("snk", "sink.discard")] },
  });
  assert.deepEqual(Object.fromEntries([...h.accumulators].sort()), {
    "mid.records-in": n,
    "mid.records-out": n,
    records: n,
    "snk.records-in": n,
    "src.records-out": n,
  });
  assert.equal(h.finished, true);
  await h.ctx.output.finish(); // the Task finishes the task's output once more: harmless
  // Every record arrives, in order, at the task's output.
  const o = await runInvokable(chain, { config: { members: [member("src", "source.sequence", { from: 1, to: n }), member("mid", "op.identity")] } });
  assert.deepEqual(
    o.output,
    Array.from({ length: n }, (_, i) => i + 1),
  );
});

test("eddy.chain: a combiner that is the only producer for the only consumer is left out; otherwise it sums", async () => {
  const members = [member("src", "source.keyedEvents", { events: 1000, keys: 10 }), member("combine", "op.keyedSum", { partial: true })];
  const one = await runInvokable(chain, { config: { members }, consumers: 1 });
  assert.equal(one.output.length, 1000, "every record goes to the one consumer as it is");
  assert.equal(one.accumulators.get("combine.records-in"), undefined, "the combiner did not run");
  const two = await runInvokable(chain, { config: { members }, consumers: 2 });
  assert.equal(two.output.length, 10, "one partial sum per key");
  assert.equal(two.accumulators.get("combine.records-in"), 1000);
  const sum = (out: unknown[]) => (out as Array<[string, number]>).reduce((n, r) => n + r[1], 0);
  assert.equal(sum(two.output), sum(one.output));
  const ofTwoProducers = await runInvokable(chain, { config: { members }, parallelism: 2, consumers: 1 });
  // Subtask 0 of two produces the events of half the keys.
  assert.equal(ofTwoProducers.accumulators.get("combine.records-in"), 500, "one of two producers for one consumer sums too");
  assert.equal(ofTwoProducers.output.length, 5);
  // A chain of the combiner alone still runs it: it forwards (a sum would give ["a", 3]).
  const input = [
    ["a", 1],
    ["a", 2],
  ];
  const alone = await runInvokable(chain, { config: { members: [members[1]!] }, consumers: 1, input });
  assert.deepEqual(alone.output, input);
  assert.equal(alone.accumulators.get("combine.records-in"), 2);
});

/** A registry with test invokables, and the chain over it. */
function testRegistry(extra: InvokableFactory[]): { reg: InvokableRegistry; chain: InvokableFactory } {
  const reg = new InvokableRegistry(builtinInvokables.values());
  for (const x of extra) reg.register(x);
  return { reg, chain: createChainFactory(() => reg) };
}

const opFactory = (name: string, invoke: (ctx: TaskContext) => Promise<void>, restore?: (ctx: TaskContext) => Promise<void>): InvokableFactory => ({
  name,
  description: name,
  kind: "operator",
  validate() {},
  create: () => (restore ? { invoke, restore } : { invoke }),
});

test("eddy.chain: members are restored in order with their own tdd; a member that never calls finish() still ends its output", async () => {
  const restored: Array<[string, string, unknown]> = [];
  const restore = async (ctx: TaskContext) => void restored.push([ctx.tdd.vertexId, ctx.tdd.vertexName, ctx.tdd.config]);
  const { chain: c } = testRegistry([
    opFactory(
      "t.lazy",
      async (ctx) => {
        for (let b = await ctx.input.next(); b; b = await ctx.input.next()) {
          for (const r of b.records) ctx.output.emit(r);
          ctx.input.recycle(b);
        }
      },
      restore,
    ),
    opFactory(
      "t.double",
      async (ctx) => {
        for (let b = await ctx.input.next(); b; b = await ctx.input.next()) for (const r of b.records) ctx.output.emit((r as number) * 2);
        await ctx.output.finish();
        await ctx.output.finish();
      },
      restore,
    ),
  ]);
  const h = await runInvokable(c, { input: [1, 2, 3], config: { members: [member("lazy", "t.lazy", { x: 1 }), member("dbl", "t.double")] } });
  assert.deepEqual(restored, [
    ["lazy", "LAZY", { x: 1 }],
    ["dbl", "DBL", {}],
  ]);
  assert.deepEqual(h.output, [2, 4, 6]);
});

test("eddy.chain: a failing member fails the chain and stops the others", async () => {
  await assert.rejects(
    runInvokable(chain, {
      config: { members: [member("s", "source.sequence", { from: 1, to: 1e9 }), member("sum", "op.keyedSum"), member("k", "sink.discard")] },
    }),
    (e: unknown) => e instanceof TypeError && /must be arrays/.test(e.message),
  );
  // A head blocked on the task's input is released too.
  const { chain: c } = testRegistry([
    opFactory("t.fail", async () => {
      throw new EddyError(ErrorCode.InternalError, "member broke");
    }),
  ]);
  const h = createHarness();
  const ctx: TaskContext = { ...h.ctx, input: { next: () => new Promise(() => undefined), recycle() {} } };
  const inv = c.create({ members: [member("head", "op.identity"), member("bad", "t.fail")] });
  await assert.rejects(inv.invoke(ctx), /member broke/);
});

test("eddy.chain: cancellation ends every member", async () => {
  const h = createHarness({ vertexId: "s" });
  const inv = chain.create({ members: [member("s", "source.sequence", { from: 0, to: 1e12 }), member("m", "op.identity"), member("k", "sink.discard")] });
  const run = inv.invoke(h.ctx);
  setTimeout(() => h.abort(new EddyError(ErrorCode.Shutdown, "task canceled")), 20);
  await assert.rejects(run, /task canceled/);
  assert.ok((h.accumulators.get("records") ?? 0) > 0);
  assert.equal(h.finished, false);
});

test("eddy.chain: backpressure from the task's output bounds the queues between members", async () => {
  const n = 50_000;
  const h = createHarness({ outputCapacity: 100 });
  const inv = chain.create({
    members: [member("s", "source.sequence", { from: 1, to: n }), member("a", "op.identity"), member("b", "op.identity")],
    queueBatches: 2,
  }) as ChainInvokable;
  await inv.invoke(h.ctx);
  assert.equal(h.output.length, n);
  assert.equal(h.output[n - 1], n);
  assert.ok(h.backpressureWaits > 0);
  const maxQueued = inv.maxQueuedBatches();
  assert.equal(maxQueued.length, 2);
  // Each member emits one batch's worth (1024 records) between two isAvailable() checks: never more than 2 queued.
  for (const q of maxQueued) assert.ok(q >= 1 && q <= 2, `queue length ${q} within 2`);
  // Smaller batches than a member emits between two checks overshoot by what it emits in between (1024 / 256).
  const small = chain.create({
    members: [member("s", "source.sequence", { from: 1, to: n }), member("a", "op.identity"), member("b", "op.identity")],
    queueBatches: 2,
    batchRecords: 256,
  }) as ChainInvokable;
  const h2 = createHarness({ outputCapacity: 100 });
  await small.invoke(h2.ctx);
  assert.equal(h2.output.length, n);
  for (const q of small.maxQueuedBatches()) assert.ok(q <= 2 - 1 + 1024 / 256, `queue length ${q}`);
});

test("ChainHandoff: bounded queue, availability, end of data, idempotent finish", async () => {
  const ac = new AbortController();
  const q = new ChainHandoff(2, 2, ac.signal);
  for (let i = 0; i < 4; i++) q.emit(i);
  assert.equal(q.queued, 2);
  assert.equal(q.isAvailable(), false);
  let woke = false;
  const waiting = q.available().then(() => (woke = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(woke, false);
  assert.deepEqual((await q.next())!.records, [0, 1]);
  await waiting;
  assert.equal(q.isAvailable(), true);
  q.emit(4); // a partial batch is handed over at the end of the producer's synchronous run
  assert.deepEqual((await q.next())!.records, [2, 3]);
  assert.deepEqual((await q.next())!.records, [4]);
  const pending = q.next();
  await q.finish();
  await q.finish();
  assert.equal(await pending, null);
  assert.equal(await q.next(), null);
  assert.throws(
    () => q.emit(5),
    (e: unknown) => e instanceof EddyError && e.code === ErrorCode.InternalError,
  );
  const r = new ChainHandoff(8, 1, ac.signal);
  const blocked = r.next();
  ac.abort(new Error("stop"));
  await assert.rejects(blocked, /stop/);
  q.dispose();
  r.dispose();
});

test("ChainHandoff: every batch holds exactly its records, whether shorter or longer than the one before, with watermarks in place", async () => {
  const q = new ChainHandoff(40, 100, new AbortController().signal);
  const sizes = [40, 3, 40, 40, 17, 1, 40, 25];
  const sent: number[][] = [];
  let next = 0;
  for (const size of sizes) {
    const batch = Array.from({ length: size }, () => next++);
    sent.push(batch);
    for (const [i, r] of batch.entries()) {
      q.emit(r);
      if (i === 0 && size > 1) q.emitWatermark(r);
    }
    if (size < 40) q.flush();
  }
  for (const batch of sent) {
    const got = (await q.next())!;
    assert.equal(got.records.length, batch.length);
    assert.deepEqual([...got.records], batch, "no hole, nothing of an earlier batch");
    assert.deepEqual(got.watermarks, batch.length > 1 ? [1, batch[0]] : undefined);
  }
  q.dispose();
});

test("eddy.chain: textFile -> tokenize chained equals the unchained operators", async () => {
  const dir = await mkdtemp(join(tmpdir(), "eddy-chain-"));
  try {
    const words = ["Alpha", "beta", "GAMMA", "delta_1", "x", "épée", "42"];
    const lines = Array.from({ length: 5000 }, (_, i) =>
      Array.from({ length: 1 + (i % 9) }, (_, j) => words[(i * 7 + j) % words.length]).join(i % 2 ? " " : ", "),
    );
    const path = join(dir, "in.txt");
    await writeFile(path, `${lines.join("\n")}\n`);
    for (const [subtaskIndex, parallelism] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ] as const) {
      const src = await runInvokable(f("source.textFile"), { config: { path }, subtaskIndex, parallelism });
      const tok = await runInvokable(f("op.tokenize"), { input: src.output, batchSize: 1024 });
      const chained = await runInvokable(chain, {
        vertexId: "read",
        subtaskIndex,
        parallelism,
        outputCapacity: 500,
        config: { members: [member("read", "source.textFile", { path }), member("tok", "op.tokenize")] },
      });
      assert.ok(tok.output.length > 5000);
      assert.deepEqual(chained.output, tok.output, `subtask ${subtaskIndex} of ${parallelism}`);
      assert.equal(chained.accumulators.get("tok.records-out"), tok.output.length);
      assert.equal(chained.accumulators.get("read.records-out"), src.output.length);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
