import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  JobBuilder,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  USER_FUNCTIONS,
  WatermarkStrategy,
  jobArg,
  requireJobArg,
} from "../../src/sdk/index.js";
import { loadJob } from "../../src/sdk/load-job.js";
import { validateJobGraph } from "../../src/jobgraph/index.js";
import { ErrorCode, ValidationError } from "../../src/core/errors.js";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";

const execFileAsync = promisify(execFile);

// dist/test/unit -> repository root
const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");

test("builder: WordCount pipeline produces a valid JobGraph", () => {
  const env = new JobBuilder("WordCount", { parallelism: 3, args: ["--x"] });
  env.readTextFile("/data/in.txt").tokenize().keyBy(0).sum(1).writeAsText("/data/out");
  const spec = env.build();
  assert.deepEqual(spec, {
    name: "WordCount",
    vertices: [
      { id: "textFile-0", name: "Source: readTextFile(/data/in.txt)", invokable: "source.textFile", parallelism: 3, config: { path: "/data/in.txt" } },
      { id: "tokenize-1", name: "Tokenize", invokable: "op.tokenize", parallelism: 3 },
      { id: "keyedSum-2", name: "Combine Sum", invokable: "op.keyedSum", parallelism: 3, config: { keyIndex: 0, valueIndex: 1, partial: true } },
      { id: "keyedSum-3", name: "Keyed Sum", invokable: "op.keyedSum", parallelism: 3, config: { keyIndex: 0, valueIndex: 1 } },
      { id: "textFile-4", name: "Sink: writeAsText(/data/out)", invokable: "sink.textFile", parallelism: 3, config: { path: "/data/out" } },
    ],
    edges: [
      { source: "textFile-0", target: "tokenize-1", partitioner: "forward" },
      { source: "tokenize-1", target: "keyedSum-2", partitioner: "forward" },
      { source: "keyedSum-2", target: "keyedSum-3", partitioner: "hash", key: 0 },
      { source: "keyedSum-3", target: "textFile-4", partitioner: "forward" },
    ],
    config: { args: ["--x"] },
  });
  const g = validateJobGraph(spec, builtinRegistry);
  assert.deepEqual(
    g.vertices.map((v) => v.id),
    ["textFile-0", "tokenize-1", "keyedSum-2", "keyedSum-3", "textFile-4"],
  );
});

test("builder: sum() combines before the exchange at the producer's parallelism, unless told not to or after a union", () => {
  const env = new JobBuilder("Sums", { parallelism: 4 });
  const pairs = env
    .sequence(1, 100)
    .map((n: number): [number, number] => [n % 3, n])
    .setParallelism(2);
  pairs.keyBy(0).sum(1).discard();
  pairs.keyBy(0).sum(1, { combine: false }).discard();
  pairs
    .union(pairs.map((p) => p))
    .keyBy(0)
    .sum(1)
    .discard(); // two inputs: no combiner
  const spec = env.build();
  const combiners = spec.vertices.filter((v) => v.config?.partial === true);
  assert.deepEqual(
    combiners.map((v) => [v.name, v.parallelism]),
    [["Combine Sum", 2]],
    "one combiner, at the map's parallelism, so that it chains after it",
  );
  const sums = spec.vertices.filter((v) => v.invokable === "op.keyedSum" && v.config?.partial === undefined);
  assert.deepEqual(
    sums.map((v) => v.parallelism),
    [4, 4, 4],
  );
  const into = (id: string) => spec.edges.filter((e) => e.target === id).map((e) => [e.source, e.partitioner, e.key]);
  assert.deepEqual(into(combiners[0]!.id), [["map-1", "forward", undefined]]);
  assert.deepEqual(into(sums[0]!.id), [[combiners[0]!.id, "hash", 0]]);
  assert.deepEqual(into(sums[1]!.id), [["map-1", "hash", 0]]);
  assert.deepEqual(
    into(sums[2]!.id).map((e) => e[1]),
    ["hash", "hash"],
  );
});

test("builder: parallelism, partitioning, names and ids", () => {
  const env = new JobBuilder("Seq");
  const src = env.sequence(1, 100, 2).setParallelism(4).uid("numbers").name("Numbers");
  src.rebalance().identity().setParallelism(2).discard().uid("sink").setParallelism(2);
  src.identity().rescale().identity().setMaxParallelism(256);
  src.identity().setParallelism(3).broadcast().discard(); // implicit rebalance 4 -> 3
  const spec = env.build();
  const v = Object.fromEntries(spec.vertices.map((x) => [x.id, x]));
  assert.deepEqual(v.numbers!.config, { from: 1, to: 100, step: 2 });
  assert.equal(v.numbers!.name, "Numbers");
  assert.equal(v.numbers!.parallelism, 4);
  assert.equal(v.sink!.parallelism, 2);
  assert.deepEqual(
    spec.edges.map((e) => `${e.source}>${e.target}:${e.partitioner}`),
    [
      "numbers>identity-1:rebalance",
      "identity-1>sink:forward",
      "numbers>identity-3:rebalance", // 4 -> 1
      "identity-3>identity-4:rescale",
      "numbers>identity-5:rebalance",
      "identity-5>discard-6:broadcast",
    ],
  );
  const g = validateJobGraph(spec, builtinRegistry);
  assert.equal(g.vertices.find((x) => x.id === "identity-4")!.maxParallelism, 256);
  assert.equal(g.vertices[0]!.id, "numbers");

  assert.throws(
    () => env.sequence(1, 2).uid("bad id"),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidJobGraph,
  );
  assert.throws(
    () => new JobBuilder("x", { parallelism: 0 }),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidParallelism,
  );
  assert.throws(() => env.sequence(1, 2).keyBy("name").sum(), /keyBy\(<array index>\)/);
  const dup = new JobBuilder("dup");
  dup.sequence(1, 2).uid("a").discard().uid("a");
  assert.throws(() => dup.build(), /distinct uid/);
});

test("builder: a forward edge across unequal parallelism is caught by validation", () => {
  const env = new JobBuilder("fwd", { parallelism: 2 });
  env.sequence(0, 9).forward().discard().setParallelism(3);
  assert.throws(
    () => validateJobGraph(env.build(), builtinRegistry),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidJobGraph && /rebalance/.test(e.message),
  );
});

test("job arguments", () => {
  assert.equal(jobArg(["--input", "a", "--output=b"], "--input"), "a");
  assert.equal(jobArg(["--input", "a", "--output=b"], "--output"), "b");
  assert.equal(jobArg(["--input"], "--input"), undefined);
  assert.throws(
    () => requireJobArg([], "--input", "usage here"),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.MalformedRequest && /--input.*usage here/.test(e.message),
  );
});

test("loadJob: examples/wordcount.ts builds a JobGraph that validates", async () => {
  const spec = await loadJob(join(root, "examples/wordcount.ts"), ["--input", "in.txt", "--output", "out"], { parallelism: 4 });
  assert.equal(spec.name, "WordCount");
  assert.deepEqual(spec.config?.args, ["--input", "in.txt", "--output", "out"]);
  assert.ok(spec.vertices.every((v) => v.parallelism === 4));
  assert.equal(spec.vertices[0]!.config!.path, resolve("in.txt"));
  const g = validateJobGraph(spec, builtinRegistry);
  assert.deepEqual(
    g.vertices.map((v) => v.invokable),
    ["source.textFile", "op.tokenize", "op.keyedSum", "op.keyedSum", "sink.textFile"],
  );
  assert.deepEqual(
    g.edges.map((e) => e.partitioner),
    ["forward", "forward", "hash", "forward"],
  );
  // A missing argument surfaces as the job's own MalformedRequest.
  await assert.rejects(
    loadJob(join(root, "examples/wordcount.ts"), ["--input", "x"], {}),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.MalformedRequest && /--output/.test(e.message),
  );
});

test("loadJob: clear errors and no temp files left", async () => {
  const dir = await mkdtemp(join(tmpdir(), "eddy-sdk-"));
  const before = (await readdir(tmpdir())).filter((f) => f.startsWith("eddy-job-")).length;
  const is = (code: string, re: RegExp) => (e: unknown) => e instanceof ValidationError && e.code === code && re.test(e.message);
  try {
    await assert.rejects(loadJob(join(dir, "nope.ts"), [], {}), is(ErrorCode.MalformedRequest, /cannot be read/));
    await assert.rejects(loadJob(dir, [], {}), is(ErrorCode.MalformedRequest, /not a regular file/));
    await writeFile(join(dir, "none.ts"), "export const x: number = 1;\n");
    await assert.rejects(loadJob(join(dir, "none.ts"), [], {}), is(ErrorCode.InvalidJobGraph, /no job as its default export/));
    await writeFile(join(dir, "syntax.ts"), "export default function (: {\n");
    await assert.rejects(loadJob(join(dir, "syntax.ts"), [], {}), is(ErrorCode.InvalidJobGraph, /does not build: .*syntax\.ts:1/));
    await writeFile(join(dir, "throws.mjs"), "export default () => { throw new Error('boom'); };\n");
    await assert.rejects(loadJob(join(dir, "throws.mjs"), [], {}), is(ErrorCode.InvalidJobGraph, /boom/));
    await writeFile(join(dir, "wrong.js"), "export default async () => 42;\n");
    await assert.rejects(loadJob(join(dir, "wrong.js"), [], {}), is(ErrorCode.InvalidJobGraph, /not a JobGraph/));
    // A plain spec object as default export, with a Node built-in and a CommonJS-style require.
    await writeFile(
      join(dir, "plain.ts"),
      "import { join } from 'node:path';\nconst os = require('node:os');\nexport default { name: join('a', 'b'), vertices: [{ id: 's', invokable: 'source.sequence', parallelism: os.cpus().length > 0 ? 1 : 2, config: { from: 1, to: 3 } }], edges: [] };\n",
    );
    const spec = await loadJob(join(dir, "plain.ts"), ["x"], {});
    assert.equal(spec.name, "a/b");
    assert.deepEqual(spec.config, { args: ["x"] });
    validateJobGraph(spec, builtinRegistry);
    // An async job function that uses the builder through a relative import of the SDK.
    const sdk = join(root, "src/sdk/index.js");
    await writeFile(
      join(dir, "async.ts"),
      `import { JobBuilder } from ${JSON.stringify(sdk)};\nexport default async (args: string[], ctx: { parallelism?: number }) => { const env = new JobBuilder("A", { parallelism: ctx.parallelism ?? 2 }); env.sequence(0, Number(args[0])).discard(); return env.build(); };\n`,
    );
    const a = await loadJob(join(dir, "async.ts"), ["10"], {});
    assert.equal(validateJobGraph(a, builtinRegistry).vertices[0]!.parallelism, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const after = (await readdir(tmpdir())).filter((f) => f.startsWith("eddy-job-")).length;
  assert.equal(after, before);
});

test("data-stream.js alone is enough for keyBy, connect and window (no import order to respect)", async () => {
  // A fresh process, so no other SDK module is loaded first by this test file's own imports.
  const sdk = new URL("../../src/sdk/", import.meta.url).href;
  const script = `
    const { DataStream, KeyedStream, ConnectedStreams } = await import(${JSON.stringify(`${sdk}data-stream.js`)});
    const { StreamGraph } = await import(${JSON.stringify(`${sdk}stream-graph.js`)});
    const g = new StreamGraph("alone", {});
    // Inputs that carry timestamps ("envelope"), as windows need.
    const source = (name) => new DataStream(g, [{ node: g.addNode("eddy.stream.fromElements", { elements: [] }, name), output: 0, ts: "envelope" }]);
    const keyed = source("a").keyBy((x) => String(x));
    const connected = source("b").connect(source("c"));
    const keyedConnected = keyed.connect(source("d").keyBy(0));
    const windowed = keyed.window({ kind: "tumbling", size: 10, offset: 0 }).reduce((x, y) => x + y);
    console.log(JSON.stringify({
      keyed: keyed instanceof KeyedStream,
      connected: connected instanceof ConnectedStreams && !connected.keyed,
      keyedConnected: keyedConnected.keyed,
      windowed: windowed instanceof DataStream,
      nodes: g.nodes.map((n) => n.invokable),
    }));`;
  const { stdout } = await execFileAsync(process.execPath, ["--input-type=module", "-e", script], { timeout: 30_000 });
  assert.deepEqual(JSON.parse(stdout), {
    keyed: true,
    connected: true,
    keyedConnected: true,
    windowed: true,
    nodes: ["eddy.stream.fromElements", "eddy.stream.fromElements", "eddy.stream.fromElements", "eddy.stream.fromElements", "eddy.stream.window"],
  });
});

test("keyBy(fn) sends the records as they are: the hash edge and the keyed operator name one key selector", () => {
  const env = new StreamExecutionEnvironment("keyed", { parallelism: 2 });
  const byUser = (c: { user: string }) => c.user;
  const clicks = env
    .fromElements({ user: "a", ts: 1 })
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<{ user: string; ts: number }>(0).withTimestampAssigner((c) => c.ts));
  clicks
    .keyBy(byUser)
    .window(TumblingEventTimeWindows.of(10))
    .reduce((a) => a)
    .print();
  const spec = env.build();
  assert.ok(!spec.vertices.some((v) => v.invokable === "eddy.stream.keyBy"), "no KeyBy vertex");
  const window = spec.vertices.find((v) => v.invokable === "eddy.stream.window")!;
  const edge = spec.edges.find((e) => e.target === window.id)!;
  assert.equal(edge.partitioner, "hash");
  assert.equal(edge.key, undefined);
  assert.match(edge.keySelector!, /#key0$/);
  const inputs = (window.config as { inputs: Array<{ key: unknown; ts: unknown }> }).inputs;
  assert.deepEqual(inputs[0]!.key, { selector: edge.keySelector });
  assert.equal(typeof inputs[0]!.ts, "string", "the window applies the stream's own timestamp assigner");
  const fns = (spec as typeof spec & { [USER_FUNCTIONS]: Map<string, unknown> })[USER_FUNCTIONS];
  assert.equal(fns.get(edge.keySelector!), byUser);
  validateJobGraph(spec, builtinRegistry);
});

test("keyBy(fn) over a union hashes every input by the one selector, each input keeping its timestamps", () => {
  const env = new StreamExecutionEnvironment("union", { parallelism: 2 });
  const stamped = (ts: (x: number) => number) =>
    env.fromElements(1, 2).assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<number>(0).withTimestampAssigner(ts));
  stamped((x) => x)
    .union(stamped((x) => x * 2))
    .keyBy((x) => x % 2)
    .window(TumblingEventTimeWindows.of(10))
    .reduce((a, b) => a + b)
    .print();
  const spec = env.build();
  const window = spec.vertices.find((v) => v.invokable === "eddy.stream.window")!;
  const edges = spec.edges.filter((e) => e.target === window.id);
  assert.equal(edges.length, 2);
  assert.equal(edges[0]!.keySelector, edges[1]!.keySelector);
  const inputs = (window.config as { inputs: Array<{ key: unknown; ts: string }> }).inputs;
  assert.notEqual(inputs[0]!.ts, inputs[1]!.ts, "each gate reads its own assigner, none from an envelope");
  assert.ok(inputs.every((i) => i.ts !== "envelope"));
});

test("a built-in sink reads a keyBy(fn) stream: its records as they are, hashed by the selector", () => {
  const env = new StreamExecutionEnvironment("keyed-builtin", { parallelism: 2 });
  env
    .fromElements({ user: "a" }, { user: "b" })
    .keyBy((c) => c.user)
    .writeAsText("/tmp/out");
  const spec = env.build();
  const sink = spec.vertices.find((v) => v.invokable === "sink.textFile")!;
  const edge = spec.edges.find((e) => e.target === sink.id)!;
  assert.equal(edge.partitioner, "hash");
  assert.match(edge.keySelector!, /#key0$/);
  validateJobGraph(spec, builtinRegistry);
});
