/**
 * Nexmark q5, hot items: per sliding window of 10 s sliding by 2 s, the auctions with the most bids
 * (ties all). Bids keyed by auction are counted per window (an incremental aggregate), then the
 * counts of each window meet by window end (window-maxima.ts).
 */
import { SlidingEventTimeWindows, type AggregateFunction, type Collector, type DataStream, type TimeWindow } from "eddy";
import type { Bid, NexmarkEvent } from "./events.js";
import { ofType } from "./of-type.js";
import { windowMaxima, type Candidates } from "./window-maxima.js";

export const Q5_WINDOW_MS = 10_000;
export const Q5_SLIDE_MS = 2_000;

const count: AggregateFunction<Bid, number, number> = {
  createAccumulator: () => 0,
  add: (_b, c) => c + 1,
  getResult: (c) => c,
  merge: (a, b) => a + b,
};

function candidate(auction: number, w: TimeWindow, bids: number, out: Collector<Candidates>): void {
  out.collect({ start: w.start, end: w.end, score: bids, lines: [`${auction}\t${bids}`] });
}

/** q5's output lines: `windowStart windowEnd auction count`. */
export function q5(events: DataStream<NexmarkEvent>): DataStream<string> {
  const counts = ofType<Bid>(events, "bid")
    .keyBy((b) => b.auction)
    .window(SlidingEventTimeWindows.of(Q5_WINDOW_MS, Q5_SLIDE_MS))
    .aggregate(count, candidate)
    .uid("q5-bids-per-auction");
  return windowMaxima(counts, "q5-hot-items");
}
