/**
 * Every operator of the stream API, run in process (test/helpers/local-runtime.ts) through the real
 * network stack, chaining and state backends: sources (fromElements, fromGenerator, a custom
 * SourceFunction), map/flatMap/filter, keyBy + reduce, keyed process functions with state and timers,
 * union, connect (CoMap, keyed CoProcess), side outputs, custom sinks and invokables, print; and the
 * JobGraph the builder makes (parallelism, uid, names, chaining controls, deterministic refs).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { runLocally, LocalExecution } from "../helpers/local-runtime.js";
import { listSource, type Hold } from "../helpers/held-source.js";
import { deferred, waitFor, withTimeout } from "../../src/core/time.js";
import { readLines, startStreamTestEnv, type StreamTestEnv } from "../helpers/stream-env.js";
import {
  OutputTag,
  StreamExecutionEnvironment,
  USER_FUNCTIONS,
  WatermarkStrategy,
  type Invokable,
  type KeyedProcessFunction,
  type SinkFunction,
  type TaskContext,
} from "../../src/sdk/index.js";
import { validateJobGraph, chainOperators } from "../../src/jobgraph/index.js";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";
import { ErrorCode, ValidationError } from "../../src/core/errors.js";

let t: StreamTestEnv;
before(async () => {
  t = await startStreamTestEnv("stream-ops");
});
after(async () => {
  await t.stop();
});

test("map, flatMap and filter over fromElements, chained into one task", async () => {
  const env = new StreamExecutionEnvironment("basic", { parallelism: 1 });
  const out = t.file("basic.txt");
  env
    .fromElements("a b", "c", "d e f")
    .flatMap<string>((line, o) => line.split(" ").forEach((w) => o.collect(w)))
    .map((w) => w.toUpperCase())
    .filter((w) => w !== "C")
    .collectToFile(out);
  const spec = env.build();
  const chained = chainOperators(validateJobGraph(JSON.parse(JSON.stringify(spec)), builtinRegistry), builtinRegistry);
  assert.equal(chained.vertices.length, 1, "source, flatMap, map, filter and sink chain into one task");
  await runLocally(spec, { nc: t.nc });
  assert.deepEqual(readLines(out), ["A", "B", "D", "E", "F"]);
});

test("keyBy + reduce: a running reduce per key, at parallelism 3", async () => {
  const env = new StreamExecutionEnvironment("reduce", { parallelism: 3 });
  const out = t.file("reduce.txt");
  env
    .fromGenerator(300, (i) => ({ key: `k${i % 4}`, n: 1 }))
    .keyBy((e) => e.key)
    .reduce((a, b) => ({ key: a.key, n: a.n + b.n }))
    .map((e) => `${e.key} ${e.n}`)
    .collectToFile(out, { sorted: true });
  await runLocally(env.build(), { nc: t.nc });
  const lines = readLines(out);
  assert.equal(lines.length, 300);
  for (let k = 0; k < 4; k++) {
    const counts = lines
      .filter((l) => l.startsWith(`k${k} `))
      .map((l) => Number(l.split(" ")[1]))
      .sort((a, b) => a - b);
    assert.deepEqual(
      counts,
      Array.from({ length: 75 }, (_, i) => i + 1),
      `k${k} counts 1..75`,
    );
  }
});

test("keyBy(<field>) feeds stream operators without an extractor vertex", async () => {
  const env = new StreamExecutionEnvironment("field", { parallelism: 2 });
  const out = t.file("field.txt");
  env
    .fromGenerator(40, (i): [string, number] => [`w${i % 5}`, i])
    .keyBy(0)
    .reduce((a, b) => [a[0], a[1] + b[1]])
    .collectToFile(out, { sorted: true });
  const spec = env.build();
  assert.ok(!spec.vertices.some((v) => v.invokable === "eddy.stream.keyBy"));
  assert.deepEqual(spec.edges.find((e) => e.partitioner === "hash")?.key, 0);
  await runLocally(spec, { nc: t.nc });
  const finals = new Map<string, number>();
  for (const l of readLines(out)) {
    const [w, n] = l.split(" ");
    finals.set(w!, Math.max(finals.get(w!) ?? 0, Number(n)));
  }
  for (let k = 0; k < 5; k++)
    assert.equal(
      finals.get(`w${k}`),
      Array.from({ length: 8 }, (_, j) => k + 5 * j).reduce((a, b) => a + b),
    );
});

test("a KeyedProcessFunction keeps keyed state and fires event-time timers with the watermark", async () => {
  type Ev = { user: string; ts: number };
  // Per user: count events, and 100 ms of event time after each user's first event emit the count so far.
  const fn: KeyedProcessFunction<string, Ev, string> = {
    processElement(e, ctx) {
      const count = ctx.state.getValueState<number>("count");
      const first = count.value() === undefined;
      count.update((count.value() ?? 0) + 1);
      if (first) ctx.timerService().registerEventTimeTimer(e.ts + 100);
    },
    onTimer(ts, ctx, out) {
      assert.equal(ctx.timeDomain(), "EVENT_TIME");
      out.collect(`${ctx.getCurrentKey()} @${ts} ${ctx.state.getValueState<number>("count").value()}`);
    },
  };
  const events: Ev[] = [];
  for (let i = 0; i < 60; i++) events.push({ user: `u${i % 3}`, ts: i * 5 });
  const run = async (p: number) => {
    const env = new StreamExecutionEnvironment("timers", { parallelism: p });
    const out = t.file("timers.txt");
    env
      .fromCollection(events)
      .assignTimestampsAndWatermarks(
        WatermarkStrategy.forMonotonousTimestamps<Ev>()
          .withTimestampAssigner((e) => e.ts)
          .emitEvery(1),
      )
      .keyBy((e) => e.user)
      .process(fn)
      .collectToFile(out, { sorted: true });
    await runLocally(env.build(), { nc: t.nc });
    return readLines(out);
  };
  // u0's first event at 0: its timer at 100 fires once the watermark passes 100 (after the event at 105, watermark 104):
  // events of u0 at 0, 15, ..., 90 (7) — plus 105 arrived before the watermark 104 reached the operator.
  const expected = ["u0 @100 8", "u1 @105 8", "u2 @110 8"];
  assert.deepEqual(await run(1), expected);
  assert.deepEqual(await run(2), expected);
});

test("processing-time timers fire by the clock and can be deleted", async () => {
  const fn: KeyedProcessFunction<string, string, string> = {
    processElement(v, ctx) {
      const now = ctx.timerService().currentProcessingTime();
      ctx.timerService().registerProcessingTimeTimer(now + 30);
      ctx.timerService().registerProcessingTimeTimer(now + 60);
      if (v === "b") ctx.timerService().deleteProcessingTimeTimer(now + 60);
    },
    onTimer(_ts, ctx, out) {
      out.collect(`${ctx.getCurrentKey()} ${ctx.timeDomain()}`);
    },
  };
  const env = new StreamExecutionEnvironment("proc-timers", { parallelism: 1 });
  const out = t.file("proc.txt");
  // A slow source keeps the job running while the timers are due.
  env
    .fromGenerator(40, (i) => (i === 0 ? "a" : i === 1 ? "b" : "z"), { ratePerSecond: 200 })
    .keyBy((v) => v)
    .process(fn)
    .collectToFile(out, { sorted: true });
  await runLocally(env.build(), { nc: t.nc });
  const lines = readLines(out);
  assert.equal(lines.filter((l) => l === "a PROCESSING_TIME").length, 2);
  assert.equal(lines.filter((l) => l === "b PROCESSING_TIME").length, 1);
});

test("union reads every stream; connect maps both inputs; a keyed CoProcessFunction shares state per key", async () => {
  const env = new StreamExecutionEnvironment("two-inputs", { parallelism: 2 });
  const unionOut = t.file("union.txt");
  const a = env.fromGenerator(10, (i) => i);
  const b = env.fromGenerator(5, (i) => 100 + i);
  a.union(b)
    .map((n) => String(n))
    .collectToFile(unionOut, { sorted: true });
  const coOut = t.file("comap.txt");
  a.connect(env.fromElements("x", "y"))
    .map(
      (n) => `n${n}`,
      (s) => `s${s}`,
    )
    .collectToFile(coOut, { sorted: true });
  const joinOut = t.file("join.txt");
  const orders = env.fromGenerator(6, (i) => ({ user: `u${i % 3}`, amount: i + 1 }));
  const names = env.fromElements({ user: "u0", name: "ann" }, { user: "u1", name: "bob" }, { user: "u2", name: "cy" });
  orders
    .keyBy((o) => o.user)
    .connect(names.keyBy((n) => n.user))
    .process<string>({
      processElement1(o, ctx) {
        const total = ctx.state.getValueState<number>("total");
        total.update((total.value() ?? 0) + o.amount);
      },
      processElement2(n, ctx) {
        ctx.state.getValueState<string>("name").update(n.name);
        ctx.timerService().registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
      },
      onTimer(_ts, ctx, out) {
        out.collect(`${ctx.state.getValueState<string>("name").value()} ${ctx.state.getValueState<number>("total").value()}`);
      },
    })
    .collectToFile(joinOut, { sorted: true });
  await runLocally(env.build(), { nc: t.nc });
  assert.deepEqual(readLines(unionOut), [...Array.from({ length: 10 }, (_, i) => String(i)), "100", "101", "102", "103", "104"].sort());
  assert.deepEqual(readLines(coOut), [...Array.from({ length: 10 }, (_, i) => `n${i}`), "sx", "sy"].sort());
  assert.deepEqual(readLines(joinOut), ["ann 5", "bob 7", "cy 9"]);
});

test("side outputs of a ProcessFunction reach only their readers", async () => {
  const env = new StreamExecutionEnvironment("sides", { parallelism: 2 });
  const odd = new OutputTag<number>("odd");
  const mainOut = t.file("even.txt");
  const oddOut = t.file("odd.txt");
  const split = env
    .fromGenerator(10, (i) => i)
    .process<string>({
      processElement(n, ctx, out) {
        if (n % 2 === 0) out.collect(`even ${n}`);
        else ctx.output(odd, n);
      },
    });
  split.collectToFile(mainOut, { sorted: true });
  split
    .getSideOutput(odd)
    .map((n) => `odd ${n}`)
    .collectToFile(oddOut, { sorted: true });
  const spec = env.build();
  const process = spec.vertices.find((v) => v.invokable === "eddy.stream.process")!;
  const outputs = spec.edges.filter((e) => e.source === process.id).map((e) => e.output ?? 0);
  assert.deepEqual(outputs, [0, 1], "one edge per output read, the side output's naming it");
  await runLocally(spec, { nc: t.nc });
  assert.deepEqual(readLines(mainOut), ["even 0", "even 2", "even 4", "even 6", "even 8"]);
  assert.deepEqual(readLines(oddOut), ["odd 1", "odd 3", "odd 5", "odd 7", "odd 9"]);
});

test("one operator reading both the main and a side output of another gets each record once", async () => {
  const env = new StreamExecutionEnvironment("sides-union", { parallelism: 2 });
  const odd = new OutputTag<number>("odd");
  const out = t.file("both.txt");
  const split = env
    .fromGenerator(10, (i) => i)
    .process<number>({
      processElement(n, ctx, collector) {
        if (n % 2 === 0) collector.collect(n);
        else ctx.output(odd, -n);
      },
    });
  split
    .union(split.getSideOutput(odd))
    .map((n) => String(n))
    .collectToFile(out, { sorted: true });
  const spec = env.build();
  const process = spec.vertices.find((v) => v.invokable === "eddy.stream.process")!;
  assert.equal(spec.edges.filter((e) => e.source === process.id).length, 2, "two edges between the same two vertices, one per output");
  await runLocally(spec, { nc: t.nc });
  assert.deepEqual(readLines(out), ["-1", "-3", "-5", "-7", "-9", "0", "2", "4", "6", "8"].sort());
});

test("a custom SourceFunction resumes from its checkpointed position; a custom SinkFunction sees every record once", async () => {
  const items = Array.from({ length: 400 }, (_, i) => i);
  const received: number[] = [];
  const snapshots: number[] = [];
  const sink = (): SinkFunction<number> => ({
    invoke: (v) => void received.push(v),
    snapshotState: (id) => (snapshots.push(id), []),
  });
  const build = (hold?: Hold) => {
    const env = new StreamExecutionEnvironment("custom", { parallelism: 1, checkpointing: { intervalMs: 3_600_000 } });
    env.addSource(listSource(items, hold)).uid("src").addSink(sink).uid("sink");
    return env.build();
  };
  // The source (open, run, snapshotState) stops after 150 records; the checkpoint is taken there.
  const reached = deferred<void>();
  let released = false;
  const first = LocalExecution.start(build({ at: 150, reached: () => reached.resolve(), isReleased: () => released }), { nc: t.nc, chaining: false });
  await withTimeout(reached.promise, 30_000, "the source at its stop");
  const cp = await first.checkpoint(1);
  assert.deepEqual(received, items.slice(0, 150), "the sink saw every record before the barrier once");
  assert.deepEqual(snapshots, [1]);
  released = true;
  await first.cancel();
  received.length = 0;
  await runLocally(build(), { nc: t.nc, chaining: false, restoreFrom: cp, storage: first.storage });
  assert.deepEqual(received, items.slice(150), "the restored source starts where the checkpoint was taken");
});

test("a custom Invokable written in the job file runs with restore, invoke and snapshot hooks", async () => {
  const calls: string[] = [];
  const env = new StreamExecutionEnvironment("invokable", { parallelism: 1 });
  const out = t.file("inv.txt");
  env
    .fromElements(1, 2, 3)
    .transform<number>(
      (): Invokable => ({
        async restore() {
          calls.push("restore");
        },
        async invoke(ctx: TaskContext) {
          calls.push("invoke");
          for (let b = await ctx.input.next(); b; b = await ctx.input.next()) {
            for (const r of b.records) ctx.output.emit((r as number) * 10);
            ctx.input.recycle(b);
          }
        },
      }),
      {},
      "Times ten",
    )
    .collectToFile(out);
  await runLocally(env.build(), { nc: t.nc });
  assert.deepEqual(calls, ["restore", "invoke"]);
  assert.deepEqual(readLines(out), ["10", "20", "30"]);
});

test("print writes a line per element to stdout", async () => {
  const env = new StreamExecutionEnvironment("print", { parallelism: 1 });
  env.fromElements<unknown>({ a: 1 }, [2, 3], "x").print("p");
  const written: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  (process.stdout as { write: unknown }).write = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  try {
    await runLocally(env.build(), { nc: t.nc });
  } finally {
    (process.stdout as { write: unknown }).write = orig;
  }
  assert.equal(written.join(""), 'p> {"a":1}\np> 2 3\np> x\n');
});

test("the JobGraph: parallelism, uid, names, slot sharing, chaining controls and deterministic refs", () => {
  const make = () => {
    const env = new StreamExecutionEnvironment("graph", { parallelism: 2 });
    env
      .fromGenerator(10, (i) => i)
      .uid("gen")
      .setParallelism(4)
      .map((i) => i + 1)
      .name("Plus one")
      .setMaxParallelism(64)
      .slotSharingGroup("g1")
      .filter((i) => i > 2)
      .startNewChain()
      .map((i) => i * 2)
      .disableChaining()
      .keyBy((i) => i % 3)
      .reduce((a, b) => a + b)
      .uid("sum")
      .print();
    return env.build();
  };
  const spec = make();
  const byId = new Map(spec.vertices.map((v) => [v.id, v]));
  assert.equal(byId.get("gen")?.parallelism, 4);
  const plusOne = spec.vertices.find((v) => v.name === "Plus one")!;
  assert.equal(plusOne.maxParallelism, 64);
  assert.equal(plusOne.slotSharingGroup, "g1");
  assert.equal(spec.vertices.find((v) => v.invokable === "eddy.stream.filter")?.chaining, "head");
  assert.equal(spec.vertices.filter((v) => v.invokable === "eddy.stream.map")[1]?.chaining, false);
  assert.equal(byId.get("sum")?.invokable, "eddy.stream.reduce");
  // Functions travel beside the JSON: refs in the config, the functions under USER_FUNCTIONS.
  const fnsOf = (s: object) => (s as Record<symbol, Map<string, unknown>>)[USER_FUNCTIONS]!;
  const fns = fnsOf(spec);
  assert.ok(fns instanceof Map);
  assert.ok(fns.has("gen#fn") && fns.has("sum#fn"));
  assert.equal(JSON.stringify(spec).includes("=>"), false, "no code in the JSON");
  const again = make();
  assert.deepEqual(JSON.parse(JSON.stringify(again)), JSON.parse(JSON.stringify(spec)));
  assert.deepEqual([...fnsOf(again).keys()], [...fns.keys()]);
  // The filter starts a new chain: it is not chained to the map before it.
  const chained = chainOperators(validateJobGraph(JSON.parse(JSON.stringify(spec)), builtinRegistry), builtinRegistry);
  const filterChain = chained.vertices.find((v) => JSON.stringify(v.config).includes("eddy.stream.filter") || v.invokable === "eddy.stream.filter")!;
  assert.ok(!filterChain.name.includes("Plus one"), filterChain.name);
});

test("bad use fails fast with clear errors", async () => {
  const env = new StreamExecutionEnvironment("bad");
  const s = env.fromGenerator(3, (i) => ({ ts: i }));
  assert.throws(() => s.keyBy((e) => String(e.ts)).window({ kind: "tumbling", size: 10 }), /assignTimestampsAndWatermarks/);
  assert.throws(
    () => WatermarkStrategy.forBoundedOutOfOrderness(-1),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidJobGraph,
  );
  assert.throws(() => s.assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps()), /timestamp assigner/);
  assert.throws(() => s.keyBy((e) => e.ts).sum(1), /keyBy\(<array index>\)/);
  const p = env.fromElements(1, 2);
  p.setParallelism(2).print();
  assert.throws(
    () => env.build(),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidParallelism,
  );
  // A job whose functions are missing on the worker fails with UnknownInvokable naming the ref.
  const env2 = new StreamExecutionEnvironment("no-code");
  env2
    .fromElements(1)
    .map((x) => x)
    .print();
  await assert.rejects(
    runLocally(env2.build(), { nc: t.nc, userFunctions: new Map() }),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.UnknownInvokable && /#fn/.test(e.message),
  );
});

test("a canceled job leaves no processing-time timer armed", async () => {
  const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
  const before = timeouts();
  const env = new StreamExecutionEnvironment("cancel-timers", { parallelism: 2 });
  let registered = 0;
  env
    .fromGenerator(1_000_000, (i) => i, { ratePerSecond: 2000 })
    .keyBy((i) => i % 10)
    .process<number>({
      processElement(_v, ctx) {
        ctx.timerService().registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + 3_600_000);
        registered++;
      },
    })
    .print();
  const run = LocalExecution.start(env.build(), { nc: t.nc });
  // Each subtask's timer service arms its clock once its first timer is registered.
  await waitFor(() => (registered > 0 && timeouts() >= before + 2) || undefined, 30_000, "both subtasks' timer clocks armed", 5);
  await run.cancel();
  await waitFor(() => timeouts() <= before || undefined, 10_000, `no timer left armed by the canceled job (${before} timeouts before it ran)`, 5);
});
