/**
 * Event-time windows of the stream API, run in process (test/helpers/local-runtime.ts): tumbling,
 * sliding and session windows give what a plain loop computes, at parallelism 1, 2 and 4 and for
 * shuffled input within the out-of-orderness bound; late data within the allowed lateness updates a
 * window, later data goes to the side output or is dropped; a checkpoint taken mid-stream restores at
 * another parallelism to the same result, each window firing once (and again only for late data),
 * also from a checkpoint that kept the windows' timers in keyed state.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { keyedStateAt, runLocally, LocalExecution, type MemoryStorage } from "../helpers/local-runtime.js";
import { checkpointWhenHeld, listSource, type Hold } from "../helpers/held-source.js";
import type { HeapKeyedStateBackend } from "../../src/state/index.js";
import type { CompletedCheckpoint } from "../../src/checkpoint/types.js";
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
  t = await startStreamTestEnv("stream-windows");
});
after(async () => {
  await t.stop();
});

type Ev = { k: string; ts: number; v: number };
const JITTER = 300;

/** Event i: key k<i mod 7>, time i*10 + up to JITTER ms, value 1..10 (fixed by a seeded generator). */
function makeEvents(n: number, seed = 7): Ev[] {
  const r = lcg(seed);
  return Array.from({ length: n }, (_, i) => ({ k: `k${i % 7}`, ts: i * 10 + Math.floor(r() * JITTER), v: 1 + Math.floor(r() * 10) }));
}

/** Reference: per key and window, the sum and count of values (bare loop). */
function expectedTimeWindows(events: Ev[], spec: WindowAssignerSpec): string[] {
  const acc = new Map<string, [number, number]>();
  for (const e of events) {
    assignWindows(spec, e.ts, (start, end) => {
      const id = `${e.k} ${start} ${end}`;
      const a = acc.get(id) ?? [0, 0];
      a[0] += e.v;
      a[1]++;
      acc.set(id, a);
    });
  }
  return [...acc].map(([id, [sum, n]]) => `${id} ${sum} ${n}`).sort();
}

function expectedSessions(events: Ev[], gap: number): string[] {
  const byKey = new Map<string, Ev[]>();
  for (const e of events) (byKey.get(e.k) ?? byKey.set(e.k, []).get(e.k)!).push(e);
  const out: string[] = [];
  for (const [k, es] of byKey) {
    es.sort((a, b) => a.ts - b.ts);
    let start = es[0]!.ts;
    let last = start;
    let sum = 0;
    let n = 0;
    for (const e of es) {
      if (e.ts - last > gap) {
        out.push(`${k} ${start} ${last + gap} ${sum} ${n}`);
        start = e.ts;
        sum = 0;
        n = 0;
      }
      last = e.ts;
      sum += e.v;
      n++;
    }
    out.push(`${k} ${start} ${last + gap} ${sum} ${n}`);
  }
  return out.sort();
}

/** `xs` shuffled (seeded) within consecutive blocks of `block` elements. */
function shuffleWithin<T>(xs: readonly T[], block: number, seed: number): T[] {
  const r = lcg(seed);
  const out = [...xs];
  for (let b = 0; b < out.length; b += block) {
    for (let i = Math.min(b + block - 1, out.length - 1); i > b; i--) {
      const j = b + Math.floor(r() * (i - b + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
  }
  return out;
}

const sumCount = {
  createAccumulator: (): [number, number] => [0, 0],
  add: (e: Ev, a: [number, number]): [number, number] => [a[0] + e.v, a[1] + 1],
  getResult: (a: [number, number]) => a,
  merge: (a: [number, number], b: [number, number]): [number, number] => [a[0] + b[0], a[1] + b[1]],
};

/** Builds and runs: source (generator or a fixed sequence) → watermarks → keyBy → window(spec) → sorted file. */
async function runWindows(opts: {
  events: Ev[];
  spec: WindowAssignerSpec;
  parallelism: number;
  bound: number;
  lateness?: number;
  mode?: "aggregate" | "reduce" | "process";
  collection?: boolean;
}): Promise<string[]> {
  const env = new StreamExecutionEnvironment("windows", { parallelism: opts.parallelism });
  const events = opts.events;
  const src: DataStream<Ev> = opts.collection ? env.fromCollection(events) : env.fromGenerator(events.length, (i) => events[i]!, { splits: 16 });
  const windowed = src
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(opts.bound).withTimestampAssigner((e) => e.ts))
    .keyBy((e) => e.k)
    .window(opts.spec)
    .allowedLateness(opts.lateness ?? 0);
  const out = t.file("windows.txt");
  const fmt = (k: string, w: { start: number; end: number }, sum: number, n: number) => `${k} ${w.start} ${w.end} ${sum} ${n}`;
  let result: DataStream<string>;
  switch (opts.mode ?? "aggregate") {
    case "aggregate":
      result = windowed.aggregate(sumCount, (k, w, [sum, n], o) => o.collect(fmt(k, w, sum, n)));
      break;
    case "reduce":
      result = windowed
        .reduce<string>(
          (a, b) => ({ k: a.k, ts: Math.max(a.ts, b.ts), v: a.v + b.v * 1000 }),
          (k, w, r, o) => o.collect(`${k} ${w.start} ${w.end} ${r.v}`),
        )
        .map((s) => {
          const [k, a, b, packed] = s.split(" ");
          const p = Number(packed);
          // first value + 1000 * (sum of the others): decode into sum and count-free form is not possible,
          // so the reduce test compares the packed form against the same fold below.
          return `${k} ${a} ${b} ${p}`;
        });
      break;
    case "process":
      result = windowed.process((k, w, elements, o) =>
        o.collect(
          fmt(
            k,
            w,
            elements.reduce((s, e) => s + e.v, 0),
            elements.length,
          ),
        ),
      );
      break;
  }
  result.collectToFile(out, { sorted: true });
  await runLocally(env.build(), { nc: t.nc });
  return readLines(out);
}

test("tumbling windows: the plain loop's sums, at parallelism 1, 2 and 4, and with an offset", async () => {
  const events = makeEvents(3000);
  const spec = TumblingEventTimeWindows.of(1000);
  const expected = expectedTimeWindows(events, spec);
  assert.ok(expected.length > 200);
  for (const p of [1, 2, 4]) assert.deepEqual(await runWindows({ events, spec, parallelism: p, bound: JITTER }), expected, `parallelism ${p}`);
  // With an offset the windows start at 1000 k + 250.
  const shifted = TumblingEventTimeWindows.of(1000, 250);
  const expectedShifted = expectedTimeWindows(events, shifted);
  assert.notDeepEqual(expectedShifted, expected);
  assert.deepEqual(await runWindows({ events, spec: shifted, parallelism: 2, bound: JITTER }), expectedShifted, "offset 250");
});

test("sliding windows: the plain loop's sums, at parallelism 1 and 3; process() sees every element", async () => {
  const events = makeEvents(2000);
  const spec = SlidingEventTimeWindows.of(2000, 500);
  const expected = expectedTimeWindows(events, spec);
  assert.deepEqual(await runWindows({ events, spec, parallelism: 1, bound: JITTER }), expected);
  assert.deepEqual(await runWindows({ events, spec, parallelism: 3, bound: JITTER, mode: "process" }), expected);
});

test("session windows merge per key: the plain loop's sessions, at parallelism 1 and 4", async () => {
  // Gaps: every key pauses 2 s after each 40 events of its own, so sessions have several elements.
  const base = makeEvents(2100);
  const events = base.map((e, i) => ({ ...e, ts: e.ts + Math.floor(i / 280) * 2000 }));
  const spec = EventTimeSessionWindows.withGap(400);
  const expected = expectedSessions(events, 400);
  assert.ok(expected.length >= 7 * 7, `${expected.length} sessions`);
  for (const p of [1, 4]) assert.deepEqual(await runWindows({ events, spec, parallelism: p, bound: JITTER + 10 }), expected, `parallelism ${p}`);
});

test("reduce windows fold every element of a window once", async () => {
  const events = makeEvents(1500);
  const spec = TumblingEventTimeWindows.of(700);
  const fold = new Map<string, number>();
  const order = [...events].sort((a, b) => a.ts - b.ts);
  for (const e of order) {
    assignWindows(spec, e.ts, (s, end) => {
      const id = `${e.k} ${s} ${end}`;
      fold.set(id, (fold.get(id) ?? 0) + e.v);
    });
  }
  const got = await runWindows({ events, spec, parallelism: 2, bound: JITTER, mode: "reduce" });
  // The packed reduce is first + 1000 * rest: check both the windows and the sums it encodes.
  assert.equal(got.length, fold.size);
  for (const line of got) {
    const [k, a, b, p] = line.split(" ");
    const packed = Number(p);
    const first = packed % 1000;
    const rest = (packed - first) / 1000;
    assert.ok(first >= 1 && first <= 10, line);
    assert.equal(first + rest, fold.get(`${k} ${a} ${b}`), line);
  }
});

test("results do not depend on arrival order within the out-of-orderness bound", async () => {
  const events = makeEvents(2000, 11).map((e, i) => ({ ...e, ts: i * 10 }));
  // Shuffled within blocks of 20 events (200 ms of event time): out of order by less than the 250 ms bound.
  const shuffled = shuffleWithin(events, 20, 5);
  const spec = TumblingEventTimeWindows.of(500);
  const expected = expectedTimeWindows(events, spec);
  assert.deepEqual(await runWindows({ events: shuffled, spec, parallelism: 1, bound: 250, collection: true }), expected);
  assert.deepEqual(await runWindows({ events: shuffled, spec, parallelism: 3, bound: 250, collection: true }), expected);
});

test("late data within the allowed lateness updates its window; the last firing per window is the in-order result", async () => {
  const events = makeEvents(1200, 3).map((e, i) => ({ ...e, ts: i * 10 }));
  // Shuffled within blocks of 60 events (600 ms): later than the 100 ms bound, within bound + 1000 ms lateness.
  const shuffled = shuffleWithin(events, 60, 9);
  const spec = TumblingEventTimeWindows.of(500);
  const expected = expectedTimeWindows(events, spec);
  const env = new StreamExecutionEnvironment("lateness", { parallelism: 1 });
  const out = t.file("late.txt");
  env
    .fromCollection(shuffled)
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forBoundedOutOfOrderness<Ev>(100)
        .withTimestampAssigner((e) => e.ts)
        .emitEvery(1),
    )
    .keyBy((e) => e.k)
    .window(spec)
    .allowedLateness(1000)
    .aggregate(sumCount, (k, w, [sum, n], o) => o.collect(`${k} ${w.start} ${w.end} ${sum} ${n}`))
    .collectToFile(out);
  await runLocally(env.build(), { nc: t.nc });
  const firings = readLines(out);
  assert.ok(firings.length > expected.length, `late elements fired windows again (${firings.length} firings for ${expected.length} windows)`);
  const last = new Map<string, string>();
  for (const f of firings) last.set(f.split(" ").slice(0, 3).join(" "), f);
  assert.deepEqual([...last.values()].sort(), expected);
});

test("data later than the allowed lateness goes to the side output, or is dropped and counted", async () => {
  // One key, watermark after every element (bound 0): [0, 1000) fires at 1500, is updated by 300,
  // cleaned up at 1999; 400 arrives after 3100 and is late.
  const seq: Ev[] = [100, 200, 1500, 300, 3100, 400, 3200].map((ts) => ({ k: "a", ts, v: 1 }));
  const run = async (side: boolean) => {
    const env = new StreamExecutionEnvironment("late-side", { parallelism: 1 });
    const out = t.file("main.txt");
    const lateOut = t.file("late.txt");
    const lateTag = new OutputTag<Ev>("late");
    const w = env
      .fromCollection(seq)
      .assignTimestampsAndWatermarks(
        WatermarkStrategy.forMonotonousTimestamps<Ev>()
          .withTimestampAssigner((e) => e.ts)
          .emitEvery(1),
      )
      .keyBy((e) => e.k)
      .window(TumblingEventTimeWindows.of(1000))
      .allowedLateness(1000);
    if (side) w.sideOutputLateData(lateTag);
    const counts = w.aggregate(sumCount, (k, win, [, n], o) => o.collect(`${k} ${win.start} ${n}`));
    counts.collectToFile(out);
    if (side)
      counts
        .getSideOutput(lateTag)
        .map((e) => `late ${e.ts}`)
        .collectToFile(lateOut);
    const res = await runLocally(env.build(), { nc: t.nc });
    return { main: readLines(out), late: side ? readLines(lateOut) : [], acc: res.accumulators };
  };
  const withSide = await run(true);
  assert.deepEqual(withSide.main, ["a 0 2", "a 0 3", "a 1000 1", "a 3000 2"]);
  assert.deepEqual(withSide.late, ["late 400"]);
  const dropped = await run(false);
  assert.deepEqual(dropped.main, withSide.main);
  const droppedCount = Object.entries(dropped.acc)
    .filter(([k]) => k.endsWith(".late-records-dropped"))
    .reduce((s, [, v]) => s + v, 0);
  assert.equal(droppedCount, 1);
});

test("BATCH mode: windows behind BLOCKING exchanges fire at the end of input with the same results", async () => {
  const events = makeEvents(2000, 4);
  const spec = TumblingEventTimeWindows.of(1000);
  const env = new StreamExecutionEnvironment("batch-windows", { parallelism: 2, runtimeMode: "BATCH" });
  const out = t.file("batch.txt");
  env
    .fromGenerator(events.length, (i) => events[i]!, { splits: 4 })
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(JITTER).withTimestampAssigner((e) => e.ts))
    .keyBy((e) => e.k)
    .window(spec)
    .aggregate(sumCount, (k, w, [sum, n], o) => o.collect(`${k} ${w.start} ${w.end} ${sum} ${n}`))
    .collectToFile(out, { sorted: true });
  const built = env.build();
  assert.ok(
    built.edges.some((e) => e.resultPartitionType === "BLOCKING"),
    "the keyBy exchange is BLOCKING",
  );
  await runLocally(built, { nc: t.nc });
  assert.deepEqual(readLines(out), expectedTimeWindows(events, spec));
});

test("a checkpoint taken mid-stream restores at another parallelism to the same windows", async () => {
  const events = makeEvents(6000, 21);
  const spec = TumblingEventTimeWindows.of(1000);
  const expected = expectedTimeWindows(events, spec);
  const build = (p: number, rate: number, out: string) => {
    const env = new StreamExecutionEnvironment("restore", { parallelism: p, checkpointing: { intervalMs: 3_600_000 } });
    env
      .fromGenerator(events.length, (i) => events[i]!, { splits: 8, ratePerSecond: rate })
      .uid("events")
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(JITTER).withTimestampAssigner((e) => e.ts))
      .uid("wm")
      .keyBy((e) => e.k)
      .window(spec)
      .aggregate(sumCount, (k, w, [sum, n], o) => o.collect(`${k} ${w.start} ${w.end} ${sum} ${n}`))
      .uid("windows")
      .collectToFile(out, { sorted: true })
      .uid("sink");
    return env.build();
  };
  // At 200 events per second the source needs 30 s: checkpointed after 600 events, it is mid-stream.
  const first = LocalExecution.start(build(2, 200, t.file("never.txt")), { nc: t.nc });
  await first.accumulatorReaches("events.records-out", 600);
  const cp = await first.checkpoint(1);
  await first.cancel();
  const windowState = cp.vertices.windows;
  assert.ok(windowState, "the window operator's state is in the checkpoint");
  const out = t.file("restored.txt");
  const res = await runLocally(build(3, 0, out), { nc: t.nc, restoreFrom: cp, storage: first.storage });
  assert.deepEqual(readLines(out), expected);
  // The source resumed from its checkpointed position: it emitted only what came after the checkpoint.
  const resumed = res.accumulators["events.records-out"] ?? 0;
  assert.ok(resumed > 0 && resumed < events.length, `the restored source emitted ${resumed} of ${events.length}`);
});

test("session windows with allowed lateness fire each session once, also when an element falls inside it", async () => {
  // a: 300 opens [300, 400), 250 extends it to [250, 400), 260 falls inside it, 390 extends it to
  // [250, 490); b: 1000, 1050 and 1100 chain into [1000, 1200), 1020 falls inside it. The watermark
  // trails by 100 ms, so each session is complete when it fires.
  const ev = (k: string, ts: number, v: number): Ev => ({ k, ts, v });
  const events = [ev("a", 300, 1), ev("a", 250, 2), ev("a", 260, 3), ev("b", 1000, 4), ev("a", 390, 5), ev("b", 1050, 6), ev("b", 1100, 7), ev("b", 1020, 8)];
  const spec = EventTimeSessionWindows.withGap(100);
  const expected = ["a 250 490 11 4", "b 1000 1200 25 4"];
  assert.deepEqual(expectedSessions(events, 100), expected);
  assert.deepEqual(await runWindows({ events, spec, parallelism: 1, bound: 100, lateness: 500, collection: true }), expected);
});

const click = (k: string, ts: number): Ev => ({ k, ts, v: 1 });
const RESTORE_LATENESS = 1000;
/**
 * Before the hold (the first 5): windows [0, 1000) of a, b and c fire (the watermark reaches 1499),
 * [1000, 2000) of a and d wait. After it: b@900 is late but within the lateness (its window fires
 * again), a@2600 fires [1000, 2000) and cleans up [0, 1000), so c@950 comes too late and is dropped.
 */
const RESTORE_EVENTS = [
  click("a", 100),
  click("b", 200),
  click("c", 300),
  click("a", 1100),
  click("d", 1500),
  click("b", 900),
  click("a", 1800),
  click("a", 2600),
  click("c", 950),
];
const RESTORE_HOLD = 5;
const RESTORE_FIRINGS = ["a 0 1000 1", "a 1000 2000 2", "a 2000 3000 1", "b 0 1000 1", "b 0 1000 2", "c 0 1000 1", "d 1000 2000 1"];

function buildRestoreJob(p: number, out: string, hold?: Hold) {
  const env = new StreamExecutionEnvironment("window-restore", { parallelism: p, checkpointing: { intervalMs: 3_600_000 } });
  env
    .addSource(listSource(RESTORE_EVENTS, hold))
    .uid("events")
    .setParallelism(1)
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0)
        .withTimestampAssigner((e) => e.ts)
        .emitEvery(1),
    )
    .uid("wm")
    .keyBy((e) => e.k)
    .window(TumblingEventTimeWindows.of(1000))
    .allowedLateness(RESTORE_LATENESS)
    .aggregate(sumCount, (k, w, [, n], o) => o.collect(`${k} ${w.start} ${w.end} ${n}`))
    .uid("windows")
    .collectToFile(out, { sorted: true })
    .uid("sink");
  return env.build();
}

/** The window operator's keyed state at `cp`, a backend per subtask that held keys. */
async function windowBackends(cp: CompletedCheckpoint, storage: MemoryStorage): Promise<HeapKeyedStateBackend[]> {
  return (await keyedStateAt(cp, storage, "windows")).map((s) => s.backend);
}

/** `key start:[end,acc,fired]` of every window in the backends, sorted. */
function windowEntries(backends: HeapKeyedStateBackend[]): string[] {
  const lines: string[] = [];
  for (const b of backends) {
    const windows = b.getMapState<number, unknown[]>("__windows");
    for (const key of [...b.keys("__windows")]) {
      b.setCurrentKey(key);
      for (const [start, e] of windows.entries()) lines.push(`${String(key)} ${start}:${JSON.stringify(e)}`);
    }
  }
  return lines.sort();
}

test("windows restored from a checkpoint fire once: fired ones again only for late data, the others when due", async () => {
  const { cp, storage } = await checkpointWhenHeld(t.nc, ([hold]) => buildRestoreJob(2, t.file("never.txt"), hold), [RESTORE_HOLD]);
  const backends = await windowBackends(cp, storage);
  // The snapshot holds the windows with their fired flags and no timer: the timers follow from the windows.
  assert.deepEqual(windowEntries(backends), [
    "a 0:[1000,[1,1],1]",
    "a 1000:[2000,[1,1],0]",
    "b 0:[1000,[1,1],1]",
    "c 0:[1000,[1,1],1]",
    "d 1000:[2000,[1,1],0]",
  ]);
  for (const b of backends) assert.deepEqual([...b.keys("__window_timers_event")], [], "no timer in keyed state");
  const out = t.file("restored.txt");
  const res = await runLocally(buildRestoreJob(3, out), { nc: t.nc, restoreFrom: cp, storage });
  assert.deepEqual(readLines(out), RESTORE_FIRINGS);
  assert.equal(res.accumulators["windows.late-records-dropped"], 1, "c@950 came after its window was cleaned up");
  // Restored again and held after a@2600 (watermark 2599): [0, 1000) is cleaned up, [1000, 2000) waits for 2999.
  const again = await checkpointWhenHeld(t.nc, ([hold]) => buildRestoreJob(3, t.file("never.txt"), hold), [RESTORE_EVENTS.length - 1], { cp, storage });
  assert.deepEqual(windowEntries(await windowBackends(again.cp, again.storage)), ["a 1000:[2000,[2,2],1]", "a 2000:[3000,[1,1],0]", "d 1000:[2000,[1,1],1]"]);
});

test("a checkpoint whose window timers are in keyed state restores to the same firings", async () => {
  const { cp, storage } = await checkpointWhenHeld(t.nc, ([hold]) => buildRestoreJob(2, t.file("never.txt"), hold), [RESTORE_HOLD]);
  // Rewrite each window subtask's snapshot as windows were kept before the fired flag: [end, acc], and a
  // keyed-state timer "<time>|n<start>" to fire each window that had not fired and to clean up each.
  for (const { handle: h, backend: b } of await keyedStateAt(cp, storage, "windows")) {
    const windows = b.getMapState<number, unknown[]>("__windows");
    const timers = b.getMapState<string, 1>("__window_timers_event");
    for (const key of [...b.keys("__windows")]) {
      b.setCurrentKey(key);
      for (const [start, [end, acc, fired]] of [...windows.entries()] as Array<[number, [number, unknown, number]]>) {
        windows.put(start, [end, acc]);
        if (fired === 0) timers.put(`${end - 1}|n${start}`, 1);
        timers.put(`${end - 1 + RESTORE_LATENESS}|n${start}`, 1);
      }
    }
    const bytes = b.snapshot();
    storage.objects.set(h.object, bytes);
    h.bytes = bytes.length;
  }
  assert.ok(
    windowEntries(await windowBackends(cp, storage)).every((e) => /:\[\d+,\[1,1\]\]$/.test(e)),
    "the old layout",
  );
  const out = t.file("restored.txt");
  await runLocally(buildRestoreJob(3, out), { nc: t.nc, restoreFrom: cp, storage });
  assert.deepEqual(readLines(out), RESTORE_FIRINGS);
});
