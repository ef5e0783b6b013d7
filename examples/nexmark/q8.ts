/**
 * Nexmark q8, new users: per tumbling 10 s window, every person who opened an auction in the same
 * window. Flink's SQL groups persons by (id, name, window) and auctions by (seller, window) and joins
 * the two; here a window coGroup of persons (by id) and auctions (by seller) gives both groups of a
 * key and window at once, and each distinct person of a non-empty pair goes out once.
 */
import { TumblingEventTimeWindows, type DataStream } from "eddy";
import type { Auction, NexmarkEvent, Person } from "./events.js";
import { ofType } from "./of-type.js";

export const Q8_WINDOW_MS = 10_000;

/** q8's output lines: `personId name windowStart`. */
export function q8(events: DataStream<NexmarkEvent>): DataStream<string> {
  const persons = ofType<Person>(events, "person");
  const auctions = ofType<Auction>(events, "auction");
  return persons
    .coGroup(auctions)
    .where((p) => p.id)
    .equalTo((a) => a.seller)
    .window(TumblingEventTimeWindows.of(Q8_WINDOW_MS))
    .apply<string>((ps, as, out) => {
      if (ps.length === 0 || as.length === 0) return;
      const t = as[0]!.dateTime;
      const start = t - (((t % Q8_WINDOW_MS) + Q8_WINDOW_MS) % Q8_WINDOW_MS);
      const seen = new Set<string>();
      for (const p of ps) {
        const line = `${p.id}\t${p.name}\t${start}`;
        if (!seen.has(line)) out.collect(line);
        seen.add(line);
      }
    })
    .uid("q8-new-users");
}
