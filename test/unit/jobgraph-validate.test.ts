import { test } from "node:test";
import assert from "node:assert/strict";
import { validateJobGraph, defaultMaxParallelism, jsonPath } from "../../src/jobgraph/index.js";
import type { InvokableCatalog, JobGraphSpec, JobVertexSpec } from "../../src/jobgraph/index.js";
import { ErrorCode, ValidationError } from "../../src/core/errors.js";
import { InvokableRegistry, builtinRegistry } from "../../src/runtime/invokables/index.js";
import { prng } from "../helpers/prng.js";

const seq = (id: string, p = 1): JobVertexSpec => ({ id, invokable: "source.sequence", parallelism: p, config: { from: 1, to: 10 } });
const op = (id: string, p = 1, invokable = "op.identity"): JobVertexSpec => ({ id, invokable, parallelism: p });
const sink = (id: string, p = 1): JobVertexSpec => ({ id, invokable: "sink.discard", parallelism: p });

function graph(vertices: JobVertexSpec[], edges: Array<[string, string, string?]>, extra: Partial<JobGraphSpec> = {}): JobGraphSpec {
  return {
    name: "test",
    vertices,
    edges: edges.map(([source, target, partitioner]) => ({ source, target, partitioner: (partitioner ?? "rebalance") as "rebalance" })),
    ...extra,
  };
}

function rejects(input: unknown, code: string, message?: RegExp): ValidationError {
  let caught: unknown;
  try {
    validateJobGraph(input, builtinRegistry);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ValidationError, `expected a ValidationError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

test("defaults: jobId, names, maxParallelism, slot sharing, distribution, partition type, buffers", () => {
  const g = validateJobGraph(
    graph(
      [seq("s", 3), op("m", 3), sink("k", 2)],
      [
        ["s", "m", "forward"],
        ["m", "k", "hash"],
      ],
    ),
    builtinRegistry,
  );
  assert.match(g.jobId, /^[0-9a-f]{32}$/);
  assert.equal(g.name, "test");
  assert.deepEqual(
    g.vertices.map((v) => [v.id, v.name, v.maxParallelism, v.slotSharingGroup]),
    [
      ["s", "s", 128, "default"],
      ["m", "m", 128, "default"],
      ["k", "k", 128, "default"],
    ],
  );
  assert.deepEqual(g.vertices[1]!.config, {});
  assert.deepEqual(g.edges, [
    { source: "s", target: "m", partitioner: "forward", distribution: "POINTWISE", resultPartitionType: "PIPELINED" },
    { source: "m", target: "k", partitioner: "hash", distribution: "ALL_TO_ALL", resultPartitionType: "PIPELINED" },
  ]);
  assert.deepEqual(g.config, { bufferTimeoutMs: 100, bufferRecords: 4096 });
  // Given values are kept.
  const jobId = "0123456789abcdef0123456789abcdef";
  const h = validateJobGraph(
    {
      jobId,
      name: "kept",
      vertices: [{ ...seq("s", 4), name: "Src", maxParallelism: 4, slotSharingGroup: "g1" }, sink("k", 4)],
      edges: [{ source: "s", target: "k", partitioner: "rescale", distribution: "POINTWISE", resultPartitionType: "BLOCKING" }],
      config: { bufferTimeoutMs: 0, bufferRecords: 7, args: ["a"] },
    },
    builtinRegistry,
  );
  assert.equal(h.jobId, jobId);
  assert.deepEqual([h.vertices[0]!.name, h.vertices[0]!.maxParallelism, h.vertices[0]!.slotSharingGroup], ["Src", 4, "g1"]);
  assert.equal(h.edges[0]!.resultPartitionType, "BLOCKING");
  assert.deepEqual(h.config, { bufferTimeoutMs: 0, bufferRecords: 7, args: ["a"] });
});

test("default max parallelism follows Flink's rule", () => {
  assert.deepEqual([1, 2, 85, 86, 100, 128, 1000, 20000, 21846, 32768].map(defaultMaxParallelism), [128, 128, 128, 256, 256, 256, 2048, 32768, 32768, 32768]);
  assert.equal(defaultMaxParallelism(171), 256); // 171 + 85 = 256
  assert.equal(defaultMaxParallelism(172), 512); // 172 + 86 = 258
});

test("vertices come back in topological order; edges keep their order", () => {
  const g = validateJobGraph(
    graph(
      [sink("k"), op("b"), op("a"), seq("s"), seq("t")],
      [
        ["a", "b"],
        ["b", "k"],
        ["s", "a"],
        ["t", "b"],
      ],
    ),
    builtinRegistry,
  );
  const order = g.vertices.map((v) => v.id);
  const pos = (id: string) => order.indexOf(id);
  assert.equal(order.length, 5);
  for (const e of g.edges) assert.ok(pos(e.source) < pos(e.target), `${e.source} before ${e.target}`);
  assert.deepEqual(
    g.edges.map((e) => e.source + e.target),
    ["ab", "bk", "sa", "tb"],
  );
});

test("schema errors name the JSON path and get InvalidJobGraph", () => {
  rejects(null, ErrorCode.InvalidJobGraph, /^\$: must be object/);
  rejects([], ErrorCode.InvalidJobGraph, /must be object, got array/);
  rejects({ vertices: [seq("s")], edges: [] }, ErrorCode.InvalidJobGraph, /missing required property "name"/);
  rejects(graph([seq("s")], [], { extra: 1 } as object), ErrorCode.InvalidJobGraph, /unknown property "extra"; allowed: jobId, name, vertices, edges, config/);
  rejects(graph([seq("s")], [], { jobId: "ABC" }), ErrorCode.InvalidJobGraph, /\$\.jobId: must match/);
  rejects(graph([seq("bad id")], []), ErrorCode.InvalidJobGraph, /\$\.vertices\[0\]\.id: must match/);
  rejects(graph([seq("x".repeat(65))], []), ErrorCode.InvalidJobGraph, /\$\.vertices\[0\]\.id/);
  rejects(graph([], []), ErrorCode.InvalidJobGraph, /\$\.vertices: must have at least 1/);
  rejects(graph([seq("s")], [["s", "k", "shuffle"]]), ErrorCode.InvalidJobGraph, /\$\.edges\[0\]\.partitioner: must be one of "forward"/);
  rejects({ ...graph([seq("s")], []), name: "n".repeat(300) }, ErrorCode.InvalidJobGraph, /\$\.name: must have at most 256 characters/);
  rejects(graph([{ ...seq("s"), config: { from: 1, to: "9" } }], []), ErrorCode.InvalidJobGraph, /\$\.vertices\[0\]\.config\.to: must be integer, got string/);
  rejects(graph([{ id: "s", invokable: "source.textFile", parallelism: 1 }], []), ErrorCode.InvalidJobGraph, /needs a config object/);
  rejects(
    graph([seq("s"), { ...op("t", 1, "op.tokenize"), config: { lower: true } }], [["s", "t"]]),
    ErrorCode.InvalidJobGraph,
    /\$\.vertices\[1\]\.config: unknown property "lower"/,
  );
  rejects(
    { ...graph([seq("s"), sink("k")], []), edges: [{ source: "s", target: "k", partitioner: "hash", key: -1 }] },
    ErrorCode.InvalidJobGraph,
    /\$\.edges\[0\]\.key: must be a non-negative integer or a non-empty string/,
  );
  rejects(graph([seq("s")], [], { config: { bufferRecords: 0 } }), ErrorCode.InvalidJobGraph, /\$\.config\.bufferRecords: must be >= 1/);
  assert.equal(jsonPath("/a~1b/0/c d"), '$["a/b"][0]["c d"]');
});

test("parallelism out of bounds gets InvalidParallelism", () => {
  rejects(graph([seq("s", 0)], []), ErrorCode.InvalidParallelism, /\$\.vertices\[0\]\.parallelism: must be >= 1/);
  rejects(graph([seq("s", 32769)], []), ErrorCode.InvalidParallelism, /must be <= 32768/);
  rejects(graph([seq("s", 1.5)], []), ErrorCode.InvalidParallelism, /must be integer/);
  rejects(graph([{ ...seq("s"), maxParallelism: 0 }], []), ErrorCode.InvalidParallelism, /maxParallelism/);
  rejects(graph([{ ...seq("s", 8), maxParallelism: 4 }], []), ErrorCode.InvalidParallelism, /parallelism 8 exceeds its maxParallelism 4/);
  validateJobGraph(graph([seq("s", 200)], []), builtinRegistry); // default max parallelism grows with the parallelism (512)
});

test("semantic errors get their own codes", () => {
  rejects(graph([seq("s"), seq("s")], []), ErrorCode.InvalidJobGraph, /duplicate vertex id "s"/);
  const dangling = rejects(graph([seq("s")], [["s", "ghost"]]), ErrorCode.DanglingEdge, /"ghost" does not exist/);
  assert.deepEqual(dangling.details, { edge: 0, missingVertex: "ghost" });
  rejects(graph([sink("k")], [["nobody", "k"]]), ErrorCode.DanglingEdge, /source vertex "nobody"/);
  rejects(
    graph(
      [seq("s"), sink("k")],
      [
        ["s", "k"],
        ["s", "k", "hash"],
      ],
    ),
    ErrorCode.InvalidJobGraph,
    /duplicate edge s -> k/,
  );
  rejects(graph([seq("s", 2), sink("k", 3)], [["s", "k", "forward"]]), ErrorCode.InvalidJobGraph, /rebalance/);
  rejects(graph([seq("s"), op("x", 1, "op.nothing")], [["s", "x"]]), ErrorCode.UnknownInvokable, /"op\.nothing".*op\.identity, op\.keyedSum.*source\.textFile/);
  rejects(graph([{ ...seq("s"), config: { from: 5, to: 1 } }], []), ErrorCode.InvalidJobGraph, /from \(5\) must not be greater/);
  rejects(graph([seq("s"), seq("t")], [["s", "t"]]), ErrorCode.InvalidJobGraph, /"t" \(source\.sequence\) is a source and cannot have inputs/);
  rejects(
    graph(
      [seq("s"), sink("k"), sink("l")],
      [
        ["s", "k"],
        ["k", "l"],
      ],
    ),
    ErrorCode.InvalidJobGraph,
    /"k" \(sink\.discard\) is a sink and cannot have outputs/,
  );
  rejects(graph([seq("s"), op("m")], []), ErrorCode.InvalidJobGraph, /"m" \(op\.identity\) is an operator without inputs/);
  rejects(graph([seq("s"), sink("k")], []), ErrorCode.InvalidJobGraph, /is a sink without inputs/);
  rejects(
    { ...graph([seq("s"), sink("k")], []), edges: [{ source: "s", target: "k", partitioner: "rebalance", distribution: "POINTWISE" }] },
    ErrorCode.InvalidJobGraph,
    /contradicts/,
  );
  rejects(
    { ...graph([seq("s"), sink("k")], []), edges: [{ source: "s", target: "k", partitioner: "rebalance", key: 0 }] },
    ErrorCode.InvalidJobGraph,
    /only meaningful with partitioner "hash"/,
  );
  const keyed = (e: Record<string, unknown>) => ({ ...graph([seq("s"), sink("k")], []), edges: [{ source: "s", target: "k", ...e }] });
  rejects(keyed({ partitioner: "rebalance", keySelector: "s#key0" }), ErrorCode.InvalidJobGraph, /keySelector needs partitioner "hash" and no key/);
  rejects(keyed({ partitioner: "hash", key: 0, keySelector: "s#key0" }), ErrorCode.InvalidJobGraph, /keySelector needs partitioner "hash" and no key/);
  rejects(keyed({ partitioner: "hash", keySelector: "s key0" }), ErrorCode.InvalidJobGraph, /\$\.edges\[0\]\.keySelector: must match/);
  assert.equal(validateJobGraph(keyed({ partitioner: "hash", keySelector: "s#key0" }), builtinRegistry).edges[0]!.keySelector, "s#key0");
  // Two edges between the same vertices: only for two different outputs of the source.
  const twice = (o1: number | undefined, o2: number | undefined) => ({
    ...graph([seq("s"), sink("k")], []),
    edges: [
      { source: "s", target: "k", partitioner: "rebalance", ...(o1 ? { output: o1 } : {}) },
      { source: "s", target: "k", partitioner: "rebalance", ...(o2 ? { output: o2 } : {}) },
    ],
  });
  assert.deepEqual(
    validateJobGraph(twice(undefined, 1), builtinRegistry).edges.map((e) => e.output),
    [undefined, 1],
  );
  rejects(twice(2, 2), ErrorCode.InvalidJobGraph, /duplicate edge s -> k/);
  rejects(keyed({ partitioner: "rebalance", output: 0 }), ErrorCode.InvalidJobGraph, /output/);
  rejects(keyed({ partitioner: "rebalance", output: 65 }), ErrorCode.InvalidJobGraph, /output/);
});

test("cycles: the message names a vertex on the cycle", () => {
  const self = rejects(
    graph(
      [seq("s"), op("a")],
      [
        ["s", "a"],
        ["a", "a"],
      ],
    ),
    ErrorCode.CyclicJobGraph,
    /"a" to itself/,
  );
  assert.equal((self.details as { vertexId: string }).vertexId, "a");
  // s -> a -> b -> c -> a, c -> d -> k: only a, b, c are on the cycle (d and k are merely downstream).
  const vs = [seq("s"), op("d"), sink("k"), op("c"), op("b"), op("a")];
  const e = rejects(
    graph(vs, [
      ["c", "d"],
      ["d", "k"],
      ["s", "a"],
      ["a", "b"],
      ["b", "c"],
      ["c", "a"],
    ]),
    ErrorCode.CyclicJobGraph,
    /cycle through vertex "(a|b|c)"/,
  );
  const d = e.details as { vertexId: string; cycle: string[] };
  assert.ok(["a", "b", "c"].includes(d.vertexId));
  assert.equal(d.cycle.length, 4);
  assert.equal(d.cycle[0], d.cycle[3]);
  assert.match(e.message, /a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c/);
  // A cycle with no source at all.
  rejects(
    graph(
      [op("x"), op("y")],
      [
        ["x", "y"],
        ["y", "x"],
      ],
    ),
    ErrorCode.CyclicJobGraph,
  );
});

test("__proto__ keys are refused and never pollute", () => {
  rejects(JSON.parse('{"name":"x","vertices":[],"edges":[],"__proto__":{"polluted":1}}'), ErrorCode.InvalidJobGraph, /unknown property "__proto__"/);
  const v = JSON.parse('{"id":"s","invokable":"op.custom","parallelism":1,"config":{"a":{"__proto__":{"polluted":1}}}}');
  const reg = new InvokableRegistry(builtinRegistry).register({
    name: "op.custom",
    description: "",
    kind: "source",
    validate() {},
    create: () => ({ invoke: async () => {} }),
  });
  assert.throws(
    () => validateJobGraph({ name: "x", vertices: [v], edges: [] }, reg),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidJobGraph && /__proto__/.test(e.message),
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  // Config is copied, not aliased.
  const cfg = { nested: { list: [1, 2] } };
  const g = validateJobGraph({ name: "x", vertices: [{ id: "s", invokable: "op.custom", parallelism: 1, config: cfg }], edges: [] }, reg);
  assert.deepEqual(g.vertices[0]!.config, cfg);
  assert.notEqual(g.vertices[0]!.config.nested, cfg.nested);
});

test("custom registries and validators that throw plain errors", () => {
  const reg = new InvokableRegistry().register({
    name: "user.src",
    description: "",
    kind: "source",
    validate(config) {
      if (config.bad) throw new Error("bad is bad");
    },
    create: () => ({ invoke: async () => {} }),
  });
  validateJobGraph({ name: "x", vertices: [{ id: "s", invokable: "user.src", parallelism: 1 }], edges: [] }, reg);
  assert.throws(
    () => validateJobGraph({ name: "x", vertices: [{ id: "s", invokable: "user.src", parallelism: 1, config: { bad: 1 } }], edges: [] }, reg),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidJobGraph && /vertex "s".*bad is bad/.test(e.message),
  );
  assert.throws(
    () => validateJobGraph(graph([seq("s")], []), reg),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.UnknownInvokable && /known invokables: user\.src/.test(e.message),
  );
  // Any InvokableCatalog will do, not only a registry.
  const entries = new Map([["user.src", reg.lookup("user.src")]]);
  const catalog: InvokableCatalog = { get: (n) => entries.get(n), keys: () => entries.keys(), withDeclared: () => catalog };
  validateJobGraph({ name: "x", vertices: [{ id: "s", invokable: "user.src", parallelism: 1 }], edges: [] }, catalog);
});

test("limits: huge arrays, deep nesting, cyclic and hostile objects", () => {
  const t0 = Date.now();
  rejects(
    graph(
      Array.from({ length: 100_000 }, (_, i) => seq(`s${i}`)),
      [],
    ),
    ErrorCode.InvalidJobGraph,
    /at most 1000 item/,
  );
  rejects({ name: "x", vertices: [seq("s")], edges: new Array(1_000_000).fill(0) }, ErrorCode.InvalidJobGraph, /at most 5000 item/);
  assert.ok(Date.now() - t0 < 5000);
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  rejects({ name: "x", vertices: deep, edges: [] }, ErrorCode.InvalidJobGraph);
  const reg = new InvokableRegistry(builtinRegistry).register({
    name: "op.any",
    description: "",
    kind: "source",
    validate() {},
    create: () => ({ invoke: async () => {} }),
  });
  const vertex = (config: unknown) => ({ name: "x", vertices: [{ id: "s", invokable: "op.any", parallelism: 1, config }], edges: [] });
  let deepObj: Record<string, unknown> = {};
  for (let i = 0; i < 100_000; i++) deepObj = { a: deepObj };
  assert.throws(
    () => validateJobGraph(vertex(deepObj), reg),
    (e: unknown) => e instanceof ValidationError && /nested deeper/.test(e.message),
  );
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  assert.throws(
    () => validateJobGraph(vertex(loop), reg),
    (e: unknown) => e instanceof ValidationError,
  );
  assert.throws(
    () => validateJobGraph(vertex({ wide: new Array(200_000).fill(1) }), reg),
    (e: unknown) => e instanceof ValidationError && /more than/.test(e.message),
  );
  assert.throws(
    () => validateJobGraph(vertex({ f: () => 1 }), reg),
    (e: unknown) => e instanceof ValidationError && /function/.test(e.message),
  );
  const hostile = new Proxy(
    {},
    {
      get() {
        throw new Error("trap");
      },
      ownKeys() {
        throw new Error("trap");
      },
      has() {
        throw new Error("trap");
      },
    },
  );
  rejects(hostile, ErrorCode.InvalidJobGraph);
  const getter = {
    name: "x",
    edges: [],
    get vertices(): unknown {
      throw new Error("getter");
    },
  };
  rejects(getter, ErrorCode.InvalidJobGraph);
});

test("fuzz: random values and mutated graphs only ever raise ValidationError", () => {
  const rnd = prng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const keys = [
    "name",
    "vertices",
    "edges",
    "config",
    "id",
    "invokable",
    "parallelism",
    "maxParallelism",
    "source",
    "target",
    "partitioner",
    "key",
    "from",
    "to",
    "path",
    "__proto__",
    "constructor",
    "toString",
    "jobId",
    "distribution",
  ];
  const scalars = [
    0,
    -1,
    1,
    1.5,
    32768,
    32769,
    NaN,
    Infinity,
    "",
    "s",
    "k",
    "source.sequence",
    "sink.discard",
    "op.tokenize",
    "forward",
    "hash",
    "__proto__",
    null,
    true,
    false,
    undefined,
    "0123456789abcdef0123456789abcdef",
  ];
  const value = (depth: number): unknown => {
    const r = rnd();
    if (depth > 4 || r < 0.45) return pick(scalars);
    if (r < 0.7) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rnd() * 5); i > 0; i--)
      Object.defineProperty(o, pick(keys), { value: value(depth + 1), enumerable: true, configurable: true, writable: true });
    return o;
  };
  const base = (): Record<string, unknown> =>
    JSON.parse(
      JSON.stringify(
        graph(
          [seq("s", 2), op("m", 2, "op.tokenize"), op("k", 3, "op.keyedSum"), sink("out", 3)],
          [
            ["s", "m", "forward"],
            ["m", "k", "hash"],
            ["k", "out"],
          ],
        ),
      ),
    );
  const mutate = (o: unknown, depth: number): unknown => {
    if (o === null || typeof o !== "object" || depth > 6) return rnd() < 0.3 ? value(3) : o;
    const entries = Object.keys(o);
    if (entries.length === 0 || rnd() < 0.15) return value(2);
    const k = pick(entries);
    (o as Record<string, unknown>)[k] = mutate((o as Record<string, unknown>)[k], depth + 1);
    if (rnd() < 0.1) Object.defineProperty(o, pick(keys), { value: value(2), enumerable: true, configurable: true, writable: true });
    return o;
  };
  let accepted = 0;
  for (let i = 0; i < 3000; i++) {
    const input = i % 3 === 0 ? value(0) : mutate(base(), 0);
    try {
      validateJobGraph(input, builtinRegistry);
      accepted++;
    } catch (e) {
      assert.ok(e instanceof ValidationError, `iteration ${i}: ${String(e)} for ${JSON.stringify(input)}`);
      assert.ok(Object.values(ErrorCode).includes(e.code as ErrorCode));
      assert.ok(e.message.length > 0 && e.message.length < 2000);
    }
  }
  assert.ok(accepted > 0, "some mutations stay valid");
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test("co-located vertices must have the same parallelism and slot sharing group", async () => {
  const { validateJobGraph } = await import("../../src/jobgraph/validate.js");
  const base = (p2: number, ssg?: string) => ({
    name: "co-location",
    vertices: [
      { id: "a", invokable: "source.sequence", parallelism: 2, config: { from: 0, to: 9 }, coLocationGroup: "g" },
      { id: "b", invokable: "sink.discard", parallelism: p2, coLocationGroup: "g", ...(ssg ? { slotSharingGroup: ssg } : {}) },
    ],
    edges: [{ source: "a", target: "b", partitioner: "rebalance" }],
  });
  assert.equal(validateJobGraph(base(2), builtinRegistry).vertices[1]!.coLocationGroup, "g");
  assert.throws(
    () => validateJobGraph(base(3), builtinRegistry),
    (e: unknown) => (e as { code: string }).code === "InvalidJobGraph" && /parallelism/.test((e as Error).message),
  );
  assert.throws(() => validateJobGraph(base(2, "other"), builtinRegistry), /slot sharing group/);
});
