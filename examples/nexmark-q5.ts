/**
 * Nexmark query 5, hot items: which auctions got the most bids in each sliding window.
 * `eddy run examples/nexmark-q5.ts [--parallelism N] -- --events N --output DIR [--rate R]`.
 *
 * N bids from the Nexmark bid generator (examples/nexmark/bid-generator.ts), in event time; per
 * auction, bids counted over 10 s windows sliding every 2 s; then per window the auction(s) with the
 * most bids (a keyed process function per window end, fired by an event-time timer once every count
 * of that window is in). Writes DIR/hot-items.txt: `<window end> <auction> <bids>`, sorted. Bids are
 * generated in event-time order per source subtask, so the file is the same at every parallelism.
 */
import { join, resolve } from "node:path";
import { jobArg, requireJobArg, SlidingEventTimeWindows, StreamExecutionEnvironment, WatermarkStrategy, type JobMain, type KeyedProcessFunction } from "eddy";
import { bid, type Bid } from "./nexmark/bid-generator.js";

const USAGE = "eddy run examples/nexmark-q5.ts [--parallelism N] -- --events N --output DIR [--rate R]";
export const WINDOW_SIZE_MS = 10_000;
export const WINDOW_SLIDE_MS = 2_000;

/** Bids of one auction in one window. */
export interface AuctionCount {
  auction: number;
  windowEnd: number;
  bids: number;
}

/** Per window end: the auctions with the most bids, emitted when the watermark passes the window. */
const hottest: KeyedProcessFunction<number, AuctionCount, string> = {
  processElement(c, ctx) {
    const max = ctx.state.getValueState<number>("max");
    const top = ctx.state.getValueState<number[]>("auctions");
    const m = max.value() ?? 0;
    if (c.bids > m) {
      max.update(c.bids);
      top.update([c.auction]);
    } else if (c.bids === m) top.update([...(top.value() ?? []), c.auction]);
    ctx.timerService().registerEventTimeTimer(c.windowEnd - 1);
  },
  onTimer(_ts, ctx, out) {
    const windowEnd = ctx.getCurrentKey();
    const bids = ctx.state.getValueState<number>("max").value()!;
    for (const a of ctx.state.getValueState<number[]>("auctions").value() ?? []) out.collect(`${windowEnd} ${a} ${bids}`);
    ctx.state.getValueState("max").clear();
    ctx.state.getValueState("auctions").clear();
  },
};

const q5: JobMain = (args, ctx) => {
  const n = Number(requireJobArg(args, "--events", USAGE));
  const rate = Number(jobArg(args, "--rate") ?? 0);
  if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(rate) || rate < 0)
    throw new Error(`--events and --rate must be non-negative integers\nusage: ${USAGE}`);
  const output = resolve(requireJobArg(args, "--output", USAGE));
  const env = new StreamExecutionEnvironment("Nexmark Q5", { parallelism: ctx.parallelism ?? 1 });
  env
    .fromGenerator(n, bid, rate > 0 ? { ratePerSecond: rate } : {})
    .uid("bids")
    .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Bid>().withTimestampAssigner((b) => b.dateTime))
    .keyBy((b) => b.auction)
    .window(SlidingEventTimeWindows.of(WINDOW_SIZE_MS, WINDOW_SLIDE_MS))
    .aggregate(
      { createAccumulator: () => 0, add: (_b: Bid, c: number) => c + 1, getResult: (c: number) => c, merge: (a: number, b: number) => a + b },
      (auction: number, w, bids: number, out: { collect(c: AuctionCount): void }) => out.collect({ auction, windowEnd: w.end, bids }),
    )
    .uid("bids-per-auction")
    .keyBy((c) => c.windowEnd)
    .process(hottest)
    .uid("hottest")
    .collectToFile(join(output, "hot-items.txt"), { sorted: true })
    .uid("hot-items-file");
  return env.build();
};

export default q5;
