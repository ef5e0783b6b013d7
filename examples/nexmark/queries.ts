/**
 * Nexmark's queries over the stream of all events (event time already assigned): q0–q3 here, q4, q5,
 * q7 and q8 in their own files. Each returns the stream of its output lines: the query's fields
 * separated by one TAB.
 */
import type { CoProcessFunction, DataStream } from "eddy";
import type { Auction, Bid, NexmarkEvent, Person } from "./events.js";
import { ofType as only } from "./of-type.js";
import { q4 } from "./q4.js";
import { q5 } from "./q5.js";
import { q7 } from "./q7.js";
import { q8 } from "./q8.js";

/** The queries this job knows (Nexmark's q6 is not among Flink's either). */
export const QUERIES = ["q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8"] as const;
export type Query = (typeof QUERIES)[number];

/** q0, pass-through: every bid. */
function q0(events: DataStream<NexmarkEvent>): DataStream<string> {
  return only<Bid>(events, "bid").map((b) => `${b.auction}\t${b.bidder}\t${b.price}\t${b.dateTime}`);
}

/** q1, currency conversion: every bid with its price in euro (a fixed rate of 0.908, rounded down). */
function q1(events: DataStream<NexmarkEvent>): DataStream<string> {
  return only<Bid>(events, "bid").map((b) => `${b.auction}\t${b.bidder}\t${Math.floor((b.price * 908) / 1000)}\t${b.dateTime}`);
}

/** q2, selection: the bids on every 123rd auction. */
function q2(events: DataStream<NexmarkEvent>): DataStream<string> {
  return only<Bid>(events, "bid")
    .filter((b) => b.auction % 123 === 0)
    .map((b) => `${b.auction}\t${b.price}`);
}

const Q3_STATES = new Set(["OR", "ID", "CA"]);

/** A seller outside OR, ID and CA: its auctions need not wait for it. */
const ELSEWHERE = "elsewhere";

/**
 * q3's join, per seller id: the person once seen (for good; only a marker for one outside the three
 * states) and the category-10 auctions that came before it (until it comes). In Flink q3 is a regular
 * (unbounded) SQL join, which pairs every auction with its seller whichever arrives first and however
 * far apart in time; an interval join would drop pairs further apart than its bounds and a window
 * join pairs in different windows, so neither gives q3's answer. Keyed state of the connected streams
 * does, and person ids are unique, so each auction is emitted exactly once. Persons are not filtered
 * before the join so that an auction of a seller elsewhere is dropped, not kept forever.
 */
const sellerJoin: CoProcessFunction<Auction, Person, string> = {
  processElement1(a, ctx, out) {
    const p = ctx.state.getValueState<Person | typeof ELSEWHERE>("person").value();
    if (p === undefined) ctx.state.getListState<Auction>("auctions").add(a);
    else if (p !== ELSEWHERE) out.collect(`${p.name}\t${p.city}\t${p.state}\t${a.id}`);
  },
  processElement2(p, ctx, out) {
    const local = Q3_STATES.has(p.state);
    ctx.state.getValueState<Person | typeof ELSEWHERE>("person").update(local ? p : ELSEWHERE);
    const waiting = ctx.state.getListState<Auction>("auctions");
    if (local) for (const a of waiting.get()) out.collect(`${p.name}\t${p.city}\t${p.state}\t${a.id}`);
    waiting.clear();
  },
};

/** q3, local item suggestion: category-10 auctions of sellers in Oregon, Idaho or California. */
function q3(events: DataStream<NexmarkEvent>): DataStream<string> {
  const auctions = only<Auction>(events, "auction").filter((a) => a.category === 10);
  return auctions
    .keyBy((a) => a.seller)
    .connect(only<Person>(events, "person").keyBy((p) => p.id))
    .process(sellerJoin);
}

const QUERY_FNS: Record<Query, (events: DataStream<NexmarkEvent>) => DataStream<string>> = { q0, q1, q2, q3, q4, q5, q7, q8 };

/** The output lines of query `q` over `events`. */
export function runQuery(q: Query, events: DataStream<NexmarkEvent>): DataStream<string> {
  return QUERY_FNS[q](events);
}
