/**
 * Nexmark's queries evaluated straight from their definitions (docs/writing-jobs.md, section
 * Nexmark) over a list of events, in one thread and without the SDK: the answers
 * the job's output files must hold (as sorted lines, fields separated by TABs). Windows are aligned to
 * the epoch; an event at t is in the tumbling window starting at floor(t / size) * size and in the
 * sliding windows whose start is a multiple of the slide in (t - size, t].
 */
import type { Auction, Bid, NexmarkEvent, Person } from "../../examples/nexmark/events.js";

export type NexmarkQuery = "q0" | "q1" | "q2" | "q3" | "q4" | "q5" | "q7" | "q8";

const WINDOW = 10_000;
const SLIDE = 2_000;

/** The start of the window of `size` (aligned to the epoch) holding time t. */
const windowStart = (t: number, size: number): number => t - (((t % size) + size) % size);

/** Appends v to the list at key k of m. */
function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

function q3(events: readonly NexmarkEvent[]): string[] {
  // Every (auction, seller) pair satisfying the predicates, regardless of which came first.
  const sellers = new Map<number, Person>();
  for (const e of events) if (e.type === "person" && ["OR", "ID", "CA"].includes(e.state)) sellers.set(e.id, e);
  const lines: string[] = [];
  for (const e of events) {
    if (e.type !== "auction" || e.category !== 10) continue;
    const p = sellers.get(e.seller);
    if (p) lines.push([p.name, p.city, p.state, e.id].join("\t"));
  }
  return lines;
}

function q4(events: readonly NexmarkEvent[]): string[] {
  const auctions = new Map<number, Auction>();
  for (const e of events) if (e.type === "auction" && !auctions.has(e.id)) auctions.set(e.id, e);
  const winning = new Map<number, number>();
  for (const e of events) {
    if (e.type !== "bid") continue;
    const a = auctions.get(e.auction);
    if (!a || e.dateTime < a.dateTime || e.dateTime > a.expires) continue;
    const w = winning.get(a.id);
    if (w === undefined || e.price > w) winning.set(a.id, e.price);
  }
  const perCategory = new Map<number, number[]>();
  for (const [id, price] of winning) push(perCategory, auctions.get(id)!.category, price);
  return [...perCategory].map(([c, prices]) => `${c}\t${Math.floor(prices.reduce((s, p) => s + p, 0) / prices.length)}`);
}

function q5(bids: readonly Bid[]): string[] {
  // Count bids per (window start, auction) over every sliding window holding the bid, keep the maxima.
  const counts = new Map<number, Map<number, number>>();
  for (const b of bids) {
    for (let start = windowStart(b.dateTime, SLIDE); start > b.dateTime - WINDOW; start -= SLIDE) {
      const m = counts.get(start) ?? counts.set(start, new Map()).get(start)!;
      m.set(b.auction, (m.get(b.auction) ?? 0) + 1);
    }
  }
  const lines: string[] = [];
  for (const [start, m] of counts) {
    const max = Math.max(...m.values());
    for (const [a, c] of m) if (c === max) lines.push([start, start + WINDOW, a, c].join("\t"));
  }
  return lines;
}

function q7(bids: readonly Bid[]): string[] {
  const perWindow = new Map<number, Bid[]>();
  for (const b of bids) push(perWindow, windowStart(b.dateTime, WINDOW), b);
  const lines: string[] = [];
  for (const [start, bs] of perWindow) {
    const max = Math.max(...bs.map((b) => b.price));
    for (const b of bs) if (b.price === max) lines.push([start, start + WINDOW, b.auction, b.bidder, b.price, b.dateTime].join("\t"));
  }
  return lines;
}

function q8(events: readonly NexmarkEvent[]): string[] {
  const sellers = new Set<string>();
  for (const e of events) if (e.type === "auction") sellers.add(`${windowStart(e.dateTime, WINDOW)} ${e.seller}`);
  const lines = new Set<string>();
  for (const e of events) {
    if (e.type !== "person") continue;
    const start = windowStart(e.dateTime, WINDOW);
    if (sellers.has(`${start} ${e.id}`)) lines.add([e.id, e.name, start].join("\t"));
  }
  return [...lines];
}

/** The answer of `query` over `events` (in their order), sorted. */
export function nexmarkReference(query: NexmarkQuery, events: readonly NexmarkEvent[]): string[] {
  const bids = events.filter((e): e is Bid => e.type === "bid");
  switch (query) {
    case "q0":
      return bids.map((b) => [b.auction, b.bidder, b.price, b.dateTime].join("\t")).sort();
    case "q1":
      return bids.map((b) => [b.auction, b.bidder, Math.floor((b.price * 908) / 1000), b.dateTime].join("\t")).sort();
    case "q2":
      return bids
        .filter((b) => b.auction % 123 === 0)
        .map((b) => [b.auction, b.price].join("\t"))
        .sort();
    case "q3":
      return q3(events).sort();
    case "q4":
      return q4(events).sort();
    case "q5":
      return q5(bids).sort();
    case "q7":
      return q7(bids).sort();
    case "q8":
      return q8(events).sort();
  }
}
