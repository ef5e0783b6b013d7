/**
 * The bids of Nexmark's stream alone (for examples/nexmark-q5.ts): bid i is the i-th bid event of
 * the generator (examples/nexmark/generator.ts) with its default configuration, a pure function of i
 * so a parallel source can make any share of them, in event-time order per source subtask.
 */
import type { Bid } from "./events.js";
import { DEFAULT_CONFIG, eventOfBid, nexmarkEvent } from "./generator.js";

export type { Bid } from "./events.js";

/** Bid number i (0, 1, 2, ...). */
export function bid(i: number): Bid {
  return nexmarkEvent(eventOfBid(i), DEFAULT_CONFIG) as Bid;
}
