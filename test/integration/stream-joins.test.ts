/**
 * Joins and all-windows of the stream API, run in process (test/helpers/local-runtime.ts): window
 * joins (tumbling, sliding, session), coGroup, interval joins (inclusive and exclusive bounds) and
 * windowAll give what a plain nested loop over the inputs computes, at parallelism 1 and 3, with input
 * out of order within the watermark bound; once the watermark passed, the interval join and the window
 * join keep no state; a checkpoint taken mid-stream restores at another parallelism to the same pairs;
 * the interval join's late elements go to their side output or are dropped.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { CompletedCheckpoint } from "../../src/checkpoint/types.js";
import { keyedStateAt, runLocally, type MemoryStorage } from "../helpers/local-runtime.js";
import { checkpointWhenHeld, listSource, type Hold } from "../helpers/held-source.js";
import { lcg, readLines, startStreamTestEnv, type StreamTestEnv } from "../helpers/stream-env.js";
import {
  EventTimeSessionWindows,
  OutputTag,
  SlidingEventTimeWindows,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type DataStream,
  type WindowAssignerSpec,
} from "../../src/sdk/index.js";
import { assignWindows } from "../../src/runtime/streaming/windows.js";

let t: StreamTestEnv;
before(async () => {
  t = await startStreamTestEnv("stream-joins");
});
after(async () => {
  await t.stop();
});

type Ev = { id: string; k: string; ts: number };
const JITTER = 200;

/** n events `<prefix><i>`: key k0..k<keys-1>, time i*step + up to JITTER ms (in index order: out of order by less than JITTER). */
function makeEvents(prefix: string, n: number, seed: number, keys = 5, step = 10): Ev[] {
  const r = lcg(seed);
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, k: `k${Math.floor(r() * keys)}`, ts: i * step + Math.floor(r() * JITTER) }));
}

const LEFT = makeEvents("a", 600, 1);
const RIGHT = makeEvents("b", 500, 2, 5, 12);

function timed(s: DataStream<Ev>): DataStream<Ev> {
  return s.assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(JITTER).withTimestampAssigner((e) => e.ts));
}

/** Per key, the session index of every timestamp of both inputs (sessions of `gap` over their union). */
function sessionsOf(left: Ev[], right: Ev[], gap: number): Map<string, number> {
  const byKey = new Map<string, number[]>();
  for (const e of [...left, ...right]) (byKey.get(e.k) ?? byKey.set(e.k, []).get(e.k)!).push(e.ts);
  const session = new Map<string, number>();
  for (const [k, all] of byKey) {
    all.sort((a, b) => a - b);
    let s = 0;
    for (let i = 0; i < all.length; i++) {
      // Windows [t, t + gap) that overlap or touch merge (Flink's TimeWindow.intersects).
      if (i > 0 && all[i]! - all[i - 1]! > gap) s++;
      session.set(`${k} ${all[i]}`, s);
    }
  }
  return session;
}

/** Reference window join: every pair of equal keys, once per window holding both (nested loop). */
function expectedWindowJoin(left: Ev[], right: Ev[], spec: WindowAssignerSpec): string[] {
  const out: string[] = [];
  const sessions = spec.kind === "session" ? sessionsOf(left, right, spec.gap) : undefined;
  for (const l of left) {
    for (const r of right) {
      if (l.k !== r.k) continue;
      if (sessions) {
        if (sessions.get(`${l.k} ${l.ts}`) === sessions.get(`${r.k} ${r.ts}`)) out.push(`${l.id} ${r.id}`);
      } else assignWindows(spec, l.ts, (start, end) => r.ts >= start && r.ts < end && void out.push(`${l.id} ${r.id}`));
    }
  }
  return out.sort();
}

/** LEFT and RIGHT from collections, joined on their keys in `spec`'s windows. */
function joinedInWindows(env: StreamExecutionEnvironment, spec: WindowAssignerSpec) {
  return timed(env.fromCollection(LEFT))
    .join(timed(env.fromCollection(RIGHT)))
    .where((l) => l.k)
    .equalTo((r) => r.k)
    .window(spec);
}

async function runWindowJoin(spec: WindowAssignerSpec, parallelism: number): Promise<string[]> {
  const env = new StreamExecutionEnvironment("window-join", { parallelism });
  const out = t.file("join.txt");
  joinedInWindows(env, spec)
    .apply((l, r) => `${l.id} ${r.id}`)
    .collectToFile(out, { sorted: true });
  await runLocally(env.build(), { nc: t.nc });
  return readLines(out);
}

test("window join: the nested loop's pairs in tumbling, sliding and session windows, at parallelism 1 and 3", async () => {
  const specs = [TumblingEventTimeWindows.of(500), SlidingEventTimeWindows.of(600, 200), EventTimeSessionWindows.withGap(40)];
  for (const spec of specs) {
    const expected = expectedWindowJoin(LEFT, RIGHT, spec);
    assert.ok(expected.length > 1000, `${spec.kind}: ${expected.length} pairs`);
    for (const p of [1, 3]) assert.deepEqual(await runWindowJoin(spec, p), expected, `${spec.kind} at parallelism ${p}`);
  }
});

test("window join: flatApply emits what the flat join function collects per pair", async () => {
  const env = new StreamExecutionEnvironment("flat-join", { parallelism: 2 });
  const out = t.file("flat.txt");
  joinedInWindows(env, TumblingEventTimeWindows.of(500))
    .flatApply<string>((l, r, o) => {
      if ((l.ts + r.ts) % 2 === 0) o.collect(`${l.id} ${r.id}`);
    })
    .collectToFile(out, { sorted: true });
  await runLocally(env.build(), { nc: t.nc });
  const ts = new Map([...LEFT, ...RIGHT].map((e) => [e.id, e.ts]));
  const expected = expectedWindowJoin(LEFT, RIGHT, TumblingEventTimeWindows.of(500)).filter((p) => {
    const [a, b] = p.split(" ");
    return (ts.get(a!)! + ts.get(b!)!) % 2 === 0;
  });
  assert.deepEqual(readLines(out), expected);
});

/** Reference coGroup: per key and window, both groups' ids (a group may be empty). */
function expectedCoGroup(left: Ev[], right: Ev[], spec: WindowAssignerSpec): string[] {
  const groups = new Map<string, [string[], string[]]>();
  const sessions = spec.kind === "session" ? sessionsOf(left, right, spec.gap) : undefined;
  const add = (e: Ev, side: 0 | 1) => {
    const put = (w: string) => (groups.get(w) ?? groups.set(w, [[], []]).get(w)!)[side].push(e.id);
    if (sessions) put(`${e.k} s${sessions.get(`${e.k} ${e.ts}`)}`);
    else assignWindows(spec, e.ts, (start) => put(`${e.k} ${start}`));
  };
  for (const l of left) add(l, 0);
  for (const r of right) add(r, 1);
  return [...groups.values()].map(([a, b]) => `${a.sort().join(",")}|${b.sort().join(",")}`).sort();
}

test("coGroup: per key and window both groups, one of them possibly empty, at parallelism 1 and 3", async () => {
  // Three keys on the left, five on the right: the right's k3 and k4 have no left partner.
  const left = makeEvents("a", 400, 5, 3);
  const right = makeEvents("b", 400, 6, 5);
  for (const spec of [TumblingEventTimeWindows.of(300), EventTimeSessionWindows.withGap(60)]) {
    const expected = expectedCoGroup(left, right, spec);
    assert.ok(
      expected.some((g) => g.startsWith("|")),
      "some groups have no left elements",
    );
    for (const p of [1, 3]) {
      const env = new StreamExecutionEnvironment("cogroup", { parallelism: p });
      const out = t.file("cogroup.txt");
      timed(env.fromCollection(left))
        .coGroup(timed(env.fromCollection(right)))
        .where((l) => l.k)
        .equalTo((r) => r.k)
        .window(spec)
        .apply<string>((a, b, o) =>
          o.collect(
            `${a
              .map((e) => e.id)
              .sort()
              .join(",")}|${b
              .map((e) => e.id)
              .sort()
              .join(",")}`,
          ),
        )
        .collectToFile(out, { sorted: true });
      await runLocally(env.build(), { nc: t.nc });
      assert.deepEqual(readLines(out), expected, `${spec.kind} at parallelism ${p}`);
    }
  }
});

/** Reference interval join: pairs with lower <= r.ts - l.ts <= upper (bounds moved in when exclusive). */
function expectedIntervalJoin(left: Ev[], right: Ev[], lower: number, upper: number, lowerEx = false, upperEx = false): string[] {
  const out: string[] = [];
  for (const l of left) {
    for (const r of right) {
      const d = r.ts - l.ts;
      if (l.k !== r.k || d < lower || d > upper || (lowerEx && d === lower) || (upperEx && d === upper)) continue;
      out.push(`${l.id} ${r.id} ${l.ts} ${r.ts} ${Math.max(l.ts, r.ts)}`);
    }
  }
  return out.sort();
}

async function runIntervalJoin(opts: { lower: number; upper: number; lowerEx?: boolean; upperEx?: boolean; parallelism: number }): Promise<string[]> {
  const env = new StreamExecutionEnvironment("interval-join", { parallelism: opts.parallelism });
  const out = t.file("interval.txt");
  const joined = timed(env.fromCollection(LEFT))
    .keyBy((l) => l.k)
    .intervalJoin(timed(env.fromCollection(RIGHT)).keyBy((r) => r.k))
    .between(opts.lower, opts.upper);
  if (opts.lowerEx) joined.lowerBoundExclusive();
  if (opts.upperEx) joined.upperBoundExclusive();
  joined
    .process<string>({
      processElement: (l, r, ctx, o) => o.collect(`${l.id} ${r.id} ${ctx.leftTimestamp()} ${ctx.rightTimestamp()} ${ctx.timestamp()}`),
    })
    .collectToFile(out, { sorted: true });
  await runLocally(env.build(), { nc: t.nc });
  return readLines(out);
}

test("interval join: the nested loop's pairs with inclusive bounds, at parallelism 1 and 3", async () => {
  for (const [lower, upper] of [
    [-50, 100],
    [-200, -20],
    [30, 30],
  ] as const) {
    const expected = expectedIntervalJoin(LEFT, RIGHT, lower, upper);
    assert.ok(expected.length > 5, `[${lower}, ${upper}]: ${expected.length} pairs`);
    for (const p of [1, 3]) assert.deepEqual(await runIntervalJoin({ lower, upper, parallelism: p }), expected, `[${lower}, ${upper}] at parallelism ${p}`);
  }
});

test("interval join: exclusive bounds leave out the pairs exactly at them", async () => {
  const inclusive = expectedIntervalJoin(LEFT, RIGHT, -50, 100);
  for (const [lowerEx, upperEx] of [
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const expected = expectedIntervalJoin(LEFT, RIGHT, -50, 100, lowerEx, upperEx);
    assert.ok(expected.length < inclusive.length, "some pairs lie exactly on a bound");
    assert.deepEqual(await runIntervalJoin({ lower: -50, upper: 100, lowerEx, upperEx, parallelism: 3 }), expected, `exclusive ${lowerEx}/${upperEx}`);
  }
});

test("interval join: a stream keyed by a field joins one keyed by a selector, at parallelism 3", async () => {
  const env = new StreamExecutionEnvironment("interval-fields", { parallelism: 3 });
  const out = t.file("fields.txt");
  const tuples = env
    .fromCollection(LEFT.map((l): [string, number, string] => [l.k, l.ts, l.id]))
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<[string, number, string]>(JITTER).withTimestampAssigner((l) => l[1]));
  tuples
    .keyBy(0)
    .intervalJoin(timed(env.fromCollection(RIGHT)).keyBy((r) => r.k))
    .between(-50, 100)
    .process<string>({ processElement: (l, r, ctx, o) => o.collect(`${l[2]} ${r.id} ${l[1]} ${r.ts} ${ctx.timestamp()}`) })
    .collectToFile(out, { sorted: true });
  await runLocally(env.build(), { nc: t.nc });
  assert.deepEqual(readLines(out), expectedIntervalJoin(LEFT, RIGHT, -50, 100));
});

test("windowAll: reduce, aggregate and process over the whole stream in one subtask", async () => {
  const spec = TumblingEventTimeWindows.of(700);
  const expected = new Map<number, [number, number]>();
  for (const e of LEFT)
    assignWindows(spec, e.ts, (start) => {
      const a = expected.get(start) ?? [0, 0];
      a[0] += e.ts;
      a[1]++;
      expected.set(start, a);
    });
  const lines = [...expected].map(([start, [sum, n]]) => `${start} ${sum} ${n}`).sort();
  const env = new StreamExecutionEnvironment("window-all", { parallelism: 3 });
  const outs = [t.file("reduce.txt"), t.file("aggregate.txt"), t.file("process.txt")];
  const all = () => timed(env.fromGenerator(LEFT.length, (i) => LEFT[i]!, { splits: 6 })).windowAll(spec);
  all()
    .reduce<string>(
      (a, b) => ({ id: "sum", k: "", ts: a.ts + b.ts }),
      (w, r, o) => o.collect(`${w.start} ${r.ts}`),
    )
    .collectToFile(outs[0]!, { sorted: true });
  all()
    .aggregate(
      {
        createAccumulator: (): [number, number] => [0, 0],
        add: (e: Ev, a: [number, number]): [number, number] => [a[0] + e.ts, a[1] + 1],
        getResult: (a: [number, number]) => a,
      },
      (w, [sum, n], o) => o.collect(`${w.start} ${sum} ${n}`),
    )
    .collectToFile(outs[1]!, { sorted: true });
  all()
    .process<string>((w, es, o) => o.collect(`${w.start} ${es.reduce((s, e) => s + e.ts, 0)} ${es.length}`))
    .collectToFile(outs[2]!, { sorted: true });
  const spec2 = env.build();
  const windowVertices = spec2.vertices.filter((v) => v.invokable === "eddy.stream.window");
  assert.deepEqual(
    windowVertices.map((v) => v.parallelism),
    [1, 1, 1],
    "windowAll runs in one subtask",
  );
  await runLocally(spec2, { nc: t.nc });
  assert.deepEqual(
    readLines(outs[0]!),
    lines.map((l) => l.split(" ").slice(0, 2).join(" ")),
    "reduce",
  );
  assert.deepEqual(readLines(outs[1]!), lines, "aggregate");
  assert.deepEqual(readLines(outs[2]!), lines, "process");
});

test("windowAll refuses a parallelism above 1", () => {
  const env = new StreamExecutionEnvironment("window-all-p", { parallelism: 2 });
  timed(env.fromCollection(LEFT))
    .windowAll(TumblingEventTimeWindows.of(100))
    .process<number>((_w, es, o) => o.collect(es.length))
    .setParallelism(2)
    .discard();
  assert.throws(() => env.build(), /windowAll .* is not parallel/);
});

type JoinKind = "interval" | "window";

/** Left and right from list sources → join → sorted file; the join's uid is "join". */
function buildJoin(kind: JoinKind, p: number, out: string, left: readonly Ev[], right: readonly Ev[], holds?: Hold[]) {
  const env = new StreamExecutionEnvironment(`${kind}-join`, { parallelism: p, checkpointing: { intervalMs: 3_600_000 } });
  const strategy = WatermarkStrategy.forBoundedOutOfOrderness<Ev>(JITTER)
    .withTimestampAssigner((e) => e.ts)
    .emitEvery(1);
  const a = env.addSource(listSource(left, holds?.[0])).uid("left").setParallelism(1).assignTimestampsAndWatermarks(strategy);
  const b = env.addSource(listSource(right, holds?.[1])).uid("right").setParallelism(1).assignTimestampsAndWatermarks(strategy);
  const joined =
    kind === "interval"
      ? a
          .keyBy((l) => l.k)
          .intervalJoin(b.keyBy((r) => r.k))
          .between(-50, 100)
          .process<string>({ processElement: (l, r, ctx, o) => o.collect(`${l.id} ${r.id} ${ctx.leftTimestamp()} ${ctx.rightTimestamp()} ${ctx.timestamp()}`) })
      : a
          .join(b)
          .where((l) => l.k)
          .equalTo((r) => r.k)
          .window(TumblingEventTimeWindows.of(500))
          .apply((l, r) => `${l.id} ${r.id}`);
  joined.uid("join").collectToFile(out, { sorted: true }).uid("sink");
  return env.build();
}

function expectedJoin(kind: JoinKind, left: Ev[], right: Ev[]): string[] {
  return kind === "interval" ? expectedIntervalJoin(left, right, -50, 100) : expectedWindowJoin(left, right, TumblingEventTimeWindows.of(500));
}

/** The keys with any state in the join vertex's keyed state at checkpoint `cp`. */
async function joinStateKeys(cp: CompletedCheckpoint, storage: MemoryStorage): Promise<Set<unknown>> {
  const keys = new Set<unknown>();
  for (const { backend } of await keyedStateAt(cp, storage, "join")) {
    for (const d of backend.stateDescriptors()) for (const k of backend.keys(d.name)) keys.add(k);
  }
  return keys;
}

for (const kind of ["interval", "window"] as const) {
  test(`${kind} join: once the watermark passed every element, no key has state left`, async () => {
    // After the events, one "flush" element per side far ahead moves the watermark past all of them;
    // the checkpoint's barrier follows that watermark, so the snapshot shows what is left after it.
    const flush = (id: string): Ev => ({ id, k: "flush", ts: 100_000 });
    const left = [...LEFT.slice(0, 200), flush("af")];
    const right = [...RIGHT.slice(0, 200), flush("bf")];
    const { cp, storage } = await checkpointWhenHeld(t.nc, (holds) => buildJoin(kind, 3, t.file("never.txt"), left, right, holds), [left.length, right.length]);
    assert.deepEqual([...(await joinStateKeys(cp, storage))], ["flush"]);
  });

  test(`${kind} join: a checkpoint taken mid-stream at parallelism 2 restores at parallelism 3 to the same pairs`, async () => {
    const { cp, storage } = await checkpointWhenHeld(t.nc, (holds) => buildJoin(kind, 2, t.file("never.txt"), LEFT, RIGHT, holds), [300, 200]);
    assert.ok((await joinStateKeys(cp, storage)).size > 0, "the join had state at the checkpoint");
    const out = t.file("restored.txt");
    await runLocally(buildJoin(kind, 3, out, LEFT, RIGHT), { nc: t.nc, restoreFrom: cp, storage });
    assert.deepEqual(readLines(out), expectedJoin(kind, LEFT, RIGHT));
  });
}

test("interval join: elements behind the watermark go to their side's late output or are dropped and counted", async () => {
  // Both sides stop after the markers at 5000 and 5001 until the join (one subtask) emitted the 5001
  // pair: each side's watermark 4999 came before its 5001 marker, so the join's watermark has passed
  // 4999 when a3 and b3 (995, 1005: they would join a1 and b1) arrive. Late by construction.
  const ev = (id: string, k: string, ts: number): Ev => ({ id, k, ts });
  const left = [ev("a1", "k", 1000), ev("a2", "m", 5000), ev("a4", "n", 5001), ev("a3", "k", 995)];
  const right = [ev("b1", "k", 1000), ev("b2", "m", 5000), ev("b4", "n", 5001), ev("b3", "k", 1005)];
  let released = false;
  const pairs: string[] = [];
  const lateLeft: string[] = [];
  const env = new StreamExecutionEnvironment("interval-late", { parallelism: 1 });
  const strategy = WatermarkStrategy.forMonotonousTimestamps<Ev>()
    .withTimestampAssigner((e) => e.ts)
    .emitEvery(1);
  const hold = { at: 3, reached: () => undefined, isReleased: () => released };
  const tag = new OutputTag<Ev>("late-left");
  const joined = env
    .addSource(listSource(left, hold))
    .assignTimestampsAndWatermarks(strategy)
    .keyBy((e) => e.k)
    .intervalJoin(
      env
        .addSource(listSource(right, hold))
        .assignTimestampsAndWatermarks(strategy)
        .keyBy((e) => e.k),
    )
    .between(-10, 10)
    .sideOutputLeftLateData(tag)
    .process<string>({ processElement: (l, r, _ctx, o) => o.collect(`${l.id} ${r.id}`) })
    .uid("join");
  joined.addSink(() => ({
    invoke: (v: string) => {
      pairs.push(v);
      if (v === "a4 b4") released = true;
    },
  }));
  joined.getSideOutput(tag).addSink(() => ({ invoke: (e: Ev) => void lateLeft.push(e.id) }));
  const res = await runLocally(env.build(), { nc: t.nc });
  assert.deepEqual(pairs.sort(), ["a1 b1", "a2 b2", "a4 b4"]);
  assert.deepEqual(lateLeft, ["a3"]);
  assert.equal(res.accumulators["join.late-records-dropped"], 1, "b3 dropped");
  assert.equal(res.accumulators["join.late-records-side-output"], 1, "a3 to the side output");
});
