/**
 * Types flow from source to sink: this file compiles only while they do. Each `sameType` pins a
 * stream's element type (`sameType<A, B>(true)` compiles only when A and B are the same type), and each `@ts-expect-error` line must stay an error (tsc fails on an unused
 * one), so a type regression in the SDK breaks the build. The test itself checks the graph it built.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  OutputTag,
  StreamExecutionEnvironment,
  Time,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type DataStream,
  type Invokable,
  type ListState,
  type KeyedStream,
  type TimeWindow,
} from "../../src/sdk/index.js";

type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
const sameType = <A, B>(ok: Equals<A, B>): Equals<A, B> => ok;

type Bid = { auction: number; price: number; ts: number };

test("element types flow through every operator (compile-time)", () => {
  const env = new StreamExecutionEnvironment("types");
  const bids = env.fromGenerator(10, (i): Bid => ({ auction: i % 3, price: i, ts: i * 100 }));
  sameType<typeof bids, DataStream<Bid>>(true);

  const prices = bids.map((b) => b.price);
  sameType<typeof prices, DataStream<number>>(true);
  // @ts-expect-error a number has no auction
  bids.map((b) => b.price).map((p) => p.auction);

  const words = env.fromElements("a b").flatMap<string>((l, out) => l.split(" ").forEach((w) => out.collect(w)));
  sameType<typeof words, DataStream<string>>(true);
  // @ts-expect-error the collector takes strings only
  env.fromElements("a").flatMap<string>((l, out) => out.collect(l.length));

  const keyed = bids
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Bid>(10).withTimestampAssigner((b) => b.ts))
    .keyBy((b) => b.auction);
  sameType<typeof keyed, KeyedStream<Bid, number>>(true);
  // @ts-expect-error keys are strings or numbers
  bids.keyBy((b) => ({ a: b.auction }));

  // biome-ignore lint/performance/noAccumulatingSpread: KeyedStream.reduce, called once per record, not Array.reduce
  const reduced = keyed.reduce((a, b) => ({ ...a, price: a.price + b.price }));
  sameType<typeof reduced, DataStream<Bid>>(true);

  const counts = keyed
    .window(TumblingEventTimeWindows.of(1000))
    .aggregate(
      { createAccumulator: () => 0, add: (_b: Bid, n: number) => n + 1, getResult: (n: number) => n },
      (auction: number, w: TimeWindow, n: number, out: { collect(v: [number, number, number]): void }) => out.collect([auction, w.end, n]),
    );
  sameType<typeof counts, DataStream<[number, number, number]>>(true);

  const listed = keyed.window(TumblingEventTimeWindows.of(1000)).process<string>((k, w, elements, out) => {
    sameType<typeof k, number>(true);
    sameType<typeof elements, Bid[]>(true);
    out.collect(`${k}@${w.start}: ${elements.length}`);
  });
  sameType<typeof listed, DataStream<string>>(true);

  const processed = keyed.process<string>({
    processElement(b, ctx, out) {
      sameType<typeof b, Bid>(true);
      const k: number = ctx.getCurrentKey();
      ctx.timerService().registerEventTimeTimer(b.ts + 1);
      out.collect(String(k));
    },
  });
  sameType<typeof processed, DataStream<string>>(true);

  const late = new OutputTag<Bid>("late");
  const side = processed.getSideOutput(late);
  sameType<typeof side, DataStream<Bid>>(true);

  const both = prices.connect(words).map(
    (n) => n * 2,
    (s) => s.length,
  );
  sameType<typeof both, DataStream<number>>(true);

  const fieldKeyed = env.fromElements<[string, number]>(["a", 1]).keyBy(0);
  sameType<typeof fieldKeyed, KeyedStream<[string, number], string>>(true);
  const sums = fieldKeyed.sum(1);
  sameType<typeof sums, DataStream<[string, number]>>(true);

  // @ts-expect-error union needs the same element type
  prices.union(words);
  // @ts-expect-error a sink function of numbers cannot take bids
  bids.addSink(() => ({ invoke: (v: number) => void v }));
  // @ts-expect-error the watermark strategy's assigner reads the stream's element type
  prices.assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Bid>().withTimestampAssigner((b) => b.ts));

  // docs/writing-jobs.md's source with a checkpointed position compiles as written.
  const counter = (): Invokable => {
    let next = 0;
    let pos: ListState<number>;
    return {
      async restore(ctx) {
        pos = ctx.operatorState.getListState<number>("next");
        next = pos.get()[0] ?? 0;
      },
      snapshotState() {
        pos.update([next]);
      },
      async invoke(ctx) {
        while (next < 1_000_000) {
          for (let i = 0; i < 1000; i++) ctx.output.emit(next++);
          if (!ctx.output.isAvailable()) await ctx.output.available();
          await ctx.yield();
        }
      },
    };
  };
  const counted = env.addSource<number>({ invokable: counter });
  sameType<typeof counted, DataStream<number>>(true);

  // docs/writing-jobs.md's stream API example compiles as written.
  type Click = { user: string; ts: number; amount: number };
  const lateClicks = new OutputTag<Click>("late");
  const perUser = env
    .fromGenerator(1_000_000, (i): Click => ({ user: `u${i % 50}`, ts: i * 5, amount: i % 100 }))
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Click>(500).withTimestampAssigner((c) => c.ts))
    .keyBy((c) => c.user)
    .window(TumblingEventTimeWindows.of(1000))
    .allowedLateness(2000)
    .sideOutputLateData(lateClicks)
    .aggregate(
      { createAccumulator: () => 0, add: (c: Click, s: number) => s + c.amount, getResult: (s: number) => s },
      (user: string, w, sum: number, out: { collect(l: string): void }) => out.collect(`${user} ${w.end} ${sum}`),
    );
  sameType<typeof perUser, DataStream<string>>(true);
  perUser.collectToFile("/tmp/out/sums.txt", { sorted: true });
  perUser.getSideOutput(lateClicks).print("late");

  const spec = env.build();
  assert.ok(spec.vertices.length > 10);
  assert.ok(spec.vertices.some((v) => v.invokable === "eddy.user.source"));
});

test("joins, coGroup and windowAll keep both element types (compile-time)", () => {
  // docs/writing-jobs.md's joins example compiles as written.
  type Order = { id: string; user: string; ts: number };
  type Payment = { order: string; user: string; ts: number; amount: number };
  const env = new StreamExecutionEnvironment("joins", { parallelism: 2 });
  const orders = env
    .fromGenerator(1000, (i): Order => ({ id: `o${i}`, user: `u${i % 10}`, ts: i * 1000 }))
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Order>(5000).withTimestampAssigner((o) => o.ts));
  const payments = env
    .fromGenerator(1000, (i): Payment => ({ order: `o${i}`, user: `u${i % 10}`, ts: i * 1000 + 30_000, amount: i % 50 }))
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Payment>(5000).withTimestampAssigner((p) => p.ts));

  const sameMinute = orders
    .join(payments)
    .where((o) => o.user)
    .equalTo((p) => p.user)
    .window(TumblingEventTimeWindows.of(Time.minutes(1)))
    .apply((o, p) => `${o.id} ${p.order} ${p.amount}`);
  sameType<typeof sameMinute, DataStream<string>>(true);

  const perUser = orders
    .coGroup(payments)
    .where((o) => o.user)
    .equalTo((p) => p.user)
    .window(TumblingEventTimeWindows.of(Time.minutes(1)))
    .apply<[number, number]>((os, ps, out) => out.collect([os.length, ps.length]));
  sameType<typeof perUser, DataStream<[number, number]>>(true);

  const paidWithin = orders
    .keyBy((o) => o.id)
    .intervalJoin(payments.keyBy((p) => p.order))
    .between(0, Time.minutes(10))
    .upperBoundExclusive()
    .process<string>({
      processElement: (o, p, ctx, out) => out.collect(`${o.id} paid ${p.amount} after ${ctx.rightTimestamp() - ctx.leftTimestamp()} ms`),
    });
  sameType<typeof paidWithin, DataStream<string>>(true);

  const perMinute = payments
    .windowAll(TumblingEventTimeWindows.of(Time.minutes(1)))
    .aggregate(
      { createAccumulator: () => 0, add: (p: Payment, s: number) => s + p.amount, getResult: (s: number) => s },
      (w, sum: number, out: { collect(l: string): void }) => out.collect(`${w.start} ${sum}`),
    );
  sameType<typeof perMinute, DataStream<string>>(true);

  const byUser = orders.join(payments).where((o) => o.user);
  // @ts-expect-error the key selectors of both streams give the same key type
  byUser.equalTo((p) => p.amount);
  // @ts-expect-error both streams of an interval join are keyed by the same key type
  orders.keyBy((o) => o.id).intervalJoin(payments.keyBy((p) => p.amount));

  const spec = env.build();
  assert.equal(spec.vertices.filter((v) => v.invokable === "eddy.stream.intervalJoin").length, 1);
  assert.equal(spec.vertices.find((v) => v.name?.startsWith("AllWindow"))?.parallelism, 1);
});
