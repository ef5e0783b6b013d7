/**
 * Nexmark q4, average winning price per category. Flink runs it as SQL: a join of auctions and bids
 * on the auction id with `B.dateTime BETWEEN A.dateTime AND A.expires`, the maximum price per auction,
 * then the average of those per category, both updated as bids come. Here the same two steps as a
 * DataStream user writes them: auctions and bids keyed by auction id meet in a keyed co-process
 * function that keeps the auction and its highest qualifying price and emits the winning price once
 * the watermark passes the auction's expiry (no qualifying bid can come after it); then per category a
 * keyed process function sums and counts them and emits the final average at the end of input.
 */
import type { CoProcessFunction, DataStream, KeyedProcessFunction } from "eddy";
import type { Auction, Bid, NexmarkEvent } from "./events.js";
import { ofType } from "./of-type.js";

/** The winning price of one auction. */
export interface Winner {
  category: number;
  price: number;
}

/** A timer time no event reaches: only the watermark at the end of input (+Infinity) passes it. */
const END_OF_INPUT = Number.MAX_SAFE_INTEGER;

/**
 * Per auction id: the auction (value state `auction`), the highest price among its bids within
 * [dateTime, expires] so far (`max`), and bids that came before their auction (`early`). An early bid
 * is kept until the watermark passes its time: an auction arriving later is later than the bid in
 * event time, so the bid cannot qualify for it. At the auction's expiry the winner goes out and the
 * key's state is cleared; a bid after that is kept as an early one until the watermark passes it.
 */
const winningBid: CoProcessFunction<Auction, Bid, Winner, number> = {
  processElement1(a, ctx) {
    const auction = ctx.state.getValueState<Auction>("auction");
    if (auction.value() !== undefined) return;
    auction.update(a);
    const early = ctx.state.getListState<Bid>("early");
    let max: number | undefined;
    for (const b of early.get()) if (b.dateTime >= a.dateTime && b.dateTime <= a.expires && (max === undefined || b.price > max)) max = b.price;
    early.clear();
    if (max !== undefined) ctx.state.getValueState<number>("max").update(max);
    ctx.timerService().registerEventTimeTimer(a.expires);
  },
  processElement2(b, ctx) {
    const a = ctx.state.getValueState<Auction>("auction").value();
    if (a === undefined) {
      ctx.state.getListState<Bid>("early").add(b);
      ctx.timerService().registerEventTimeTimer(b.dateTime);
      return;
    }
    if (b.dateTime < a.dateTime || b.dateTime > a.expires) return;
    const max = ctx.state.getValueState<number>("max");
    const m = max.value();
    if (m === undefined || b.price > m) max.update(b.price);
  },
  onTimer(ts, ctx, out) {
    const auction = ctx.state.getValueState<Auction>("auction");
    const a = auction.value();
    if (a === undefined) {
      const early = ctx.state.getListState<Bid>("early");
      const keep = early.get().filter((b) => b.dateTime > ts);
      if (keep.length === 0) early.clear();
      else early.update(keep);
      return;
    }
    if (ts < a.expires) return;
    const max = ctx.state.getValueState<number>("max");
    const price = max.value();
    if (price !== undefined) out.collect({ category: a.category, price });
    max.clear();
    auction.clear();
  },
};

/** Per category: the sum and count of winning prices, the final average at the end of input. */
const averagePerCategory: KeyedProcessFunction<number, Winner, string> = {
  processElement(w, ctx) {
    const sum = ctx.state.getValueState<[number, number]>("sumCount");
    const [s, c] = sum.value() ?? [0, 0];
    sum.update([s + w.price, c + 1]);
    ctx.timerService().registerEventTimeTimer(END_OF_INPUT);
  },
  onTimer(_ts, ctx, out) {
    const [s, c] = ctx.state.getValueState<[number, number]>("sumCount").value()!;
    out.collect(`${ctx.getCurrentKey()}\t${Math.floor(s / c)}`);
  },
};

/** q4's output lines: `category avgPrice`. */
export function q4(events: DataStream<NexmarkEvent>): DataStream<string> {
  const auctions = ofType<Auction>(events, "auction").keyBy((a) => a.id);
  const bids = ofType<Bid>(events, "bid").keyBy((b) => b.auction);
  return auctions
    .connect(bids)
    .process(winningBid)
    .uid("q4-winning-bids")
    .keyBy((w) => w.category)
    .process(averagePerCategory)
    .uid("q4-average-per-category");
}
