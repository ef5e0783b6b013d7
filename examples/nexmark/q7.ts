/**
 * Nexmark q7, highest bid: per tumbling 10 s window, every bid whose price is the window's highest.
 * Flink's SQL joins the bids with their window's maximum price. Here bids keyed by auction keep, per
 * window, the bids with the auction's highest price (an incremental aggregate, so only those are
 * held), then those of each window meet by window end (window-maxima.ts).
 */
import { TumblingEventTimeWindows, type AggregateFunction, type Collector, type DataStream, type TimeWindow } from "eddy";
import type { Bid, NexmarkEvent } from "./events.js";
import { ofType } from "./of-type.js";
import { windowMaxima, type Candidates } from "./window-maxima.js";

export const Q7_WINDOW_MS = 10_000;

/** The highest price so far and the bids with it. */
type Top = { price: number; bids: Bid[] };

const highest: AggregateFunction<Bid, Top, Top> = {
  createAccumulator: () => ({ price: Number.NEGATIVE_INFINITY, bids: [] }),
  add: (b, top) => (b.price > top.price ? { price: b.price, bids: [b] } : b.price === top.price ? { price: top.price, bids: [...top.bids, b] } : top),
  getResult: (top) => top,
  merge: (x, y) => (x.price > y.price ? x : y.price > x.price ? y : { price: x.price, bids: [...x.bids, ...y.bids] }),
};

function candidate(_auction: number, w: TimeWindow, top: Top, out: Collector<Candidates>): void {
  const lines = top.bids.map((b) => `${b.auction}\t${b.bidder}\t${b.price}\t${b.dateTime}`);
  out.collect({ start: w.start, end: w.end, score: top.price, lines });
}

/** q7's output lines: `windowStart windowEnd auction bidder price dateTime`. */
export function q7(events: DataStream<NexmarkEvent>): DataStream<string> {
  const tops = ofType<Bid>(events, "bid")
    .keyBy((b) => b.auction)
    .window(TumblingEventTimeWindows.of(Q7_WINDOW_MS))
    .aggregate(highest, candidate)
    .uid("q7-highest-per-auction");
  return windowMaxima(tops, "q7-highest-bids");
}
