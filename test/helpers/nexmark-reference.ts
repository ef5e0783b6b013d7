/**
 * Nexmark's queries evaluated straight from their definitions over a list of events, in one thread
 * and without the SDK: the answers the job's output files must hold (as sorted lines, fields
 * separated by TABs).
 */
import type { Auction, NexmarkEvent, Person } from "../../examples/nexmark/events.js";

/** The answer of query q0–q3 over `events` (in their order), sorted. */
export function nexmarkReference(query: "q0" | "q1" | "q2" | "q3", events: readonly NexmarkEvent[]): string[] {
  const lines: string[] = [];
  if (query === "q3") {
    // Every (auction, seller) pair satisfying the predicates, regardless of which came first.
    const sellers = new Map<number, Person>();
    for (const e of events) if (e.type === "person" && ["OR", "ID", "CA"].includes(e.state)) sellers.set(e.id, e);
    for (const e of events) {
      if (e.type !== "auction" || e.category !== 10) continue;
      const a: Auction = e;
      const p = sellers.get(a.seller);
      if (p) lines.push([p.name, p.city, p.state, a.id].join("\t"));
    }
    return lines.sort();
  }
  for (const e of events) {
    if (e.type !== "bid") continue;
    if (query === "q0") lines.push([e.auction, e.bidder, e.price, e.dateTime].join("\t"));
    else if (query === "q1") lines.push([e.auction, e.bidder, Math.floor((e.price * 908) / 1000), e.dateTime].join("\t"));
    else if (e.auction % 123 === 0) lines.push([e.auction, e.price].join("\t"));
  }
  return lines.sort();
}
