/**
 * Nexmark's three event types (the benchmark's auction site) as the JSON lines of an input file: each
 * line one object tagged by `type`. Ids, prices, `dateTime` and `expires` are integers (times in ms
 * since the epoch), the rest strings. `parseEvent` checks a line completely, since an input file comes
 * from outside the job.
 */

/** A new user of the site (Nexmark's Person). */
export interface Person {
  type: "person";
  id: number;
  name: string;
  emailAddress: string;
  creditCard: string;
  city: string;
  state: string;
  dateTime: number;
}

/** A new auction (Nexmark's Auction). */
export interface Auction {
  type: "auction";
  id: number;
  itemName: string;
  description: string;
  initialBid: number;
  reserve: number;
  dateTime: number;
  expires: number;
  seller: number;
  category: number;
}

/** A bid on an auction (Nexmark's Bid). */
export interface Bid {
  type: "bid";
  auction: number;
  bidder: number;
  price: number;
  channel: string;
  url: string;
  dateTime: number;
}

/** Any Nexmark event. */
export type NexmarkEvent = Person | Auction | Bid;

const FIELDS = {
  person: { id: "int", name: "str", emailAddress: "str", creditCard: "str", city: "str", state: "str", dateTime: "int" },
  auction: {
    id: "int",
    itemName: "str",
    description: "str",
    initialBid: "int",
    reserve: "int",
    dateTime: "int",
    expires: "int",
    seller: "int",
    category: "int",
  },
  bid: { auction: "int", bidder: "int", price: "int", channel: "str", url: "str", dateTime: "int" },
} as const;

/** One event as a line of an input file. */
export function eventToJson(e: NexmarkEvent): string {
  return JSON.stringify(e);
}

/** The event on one line of an input file; throws naming the line's problem when it is not one. */
export function parseEvent(line: string): NexmarkEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`not a JSON line: ${line.slice(0, 80)}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`not a JSON object: ${line.slice(0, 80)}`);
  const o = v as Record<string, unknown>;
  const type = o.type;
  if (type !== "person" && type !== "auction" && type !== "bid") throw new Error(`"type" must be person, auction or bid: ${line.slice(0, 80)}`);
  const out: Record<string, unknown> = { type };
  for (const [field, kind] of Object.entries(FIELDS[type])) {
    const x = o[field];
    const ok = kind === "int" ? Number.isSafeInteger(x) : typeof x === "string";
    if (!ok) throw new Error(`${type} field "${field}" must be ${kind === "int" ? "an integer" : "a string"}: ${line.slice(0, 80)}`);
    out[field] = x;
  }
  return out as unknown as NexmarkEvent;
}
