/**
 * Nexmark's event generator, as a pure function of the event number so a parallel source can make
 * any share of the events (each generator subtask emits increasing event numbers, hence increasing
 * event times). It follows the benchmark's generator (GeneratorConfig, PersonGenerator,
 * AuctionGenerator, BidGenerator):
 * - events come in blocks of 50: 1 person, then 3 auctions, then 46 bids; person and auction ids
 *   increase with the event number (first ids 1000);
 * - event n happens at `baseTime + floor(n * 1000 / eventsPerSecond)` ms;
 * - auctions go to hot sellers (with probability 3/4 the newest person rounded down to a multiple of
 *   100), else to one of the last 1,000 persons (or a few not yet seen);
 * - bids go to hot auctions (with probability 1/2 the newest auction rounded down to a multiple of
 *   100), else to one of the last 100 auctions (or a few not yet made); likewise bidders (3/4 hot);
 * - prices are log-uniform from 1 to 1,000,000 cents;
 * - an auction expires within twice the time it takes for 100 more auctions to start.
 * Randomness is per event, seeded by (seed, event number): the same seed gives the same events.
 */
import type { Auction, Bid, NexmarkEvent, Person } from "./events.js";
import { EventRandom } from "./random.js";

/** What the generated stream looks like. */
export interface GeneratorConfig {
  /** Seed of the random choices (default 0). */
  seed: number;
  /** Events per second of event time (default 10,000). */
  eventsPerSecond: number;
  /** Event time of event 0, ms since the epoch. */
  baseTime: number;
}

/** Event time of event 0 (2015-07-15T00:00:00Z, Nexmark's usual base time). */
export const BASE_TIME = 1_436_918_400_000;
export const DEFAULT_EVENTS_PER_SECOND = 10_000;
export const DEFAULT_CONFIG: GeneratorConfig = { seed: 0, eventsPerSecond: DEFAULT_EVENTS_PER_SECOND, baseTime: BASE_TIME };

export const PERSON_PROPORTION = 1;
export const AUCTION_PROPORTION = 3;
export const BID_PROPORTION = 46;
export const PROPORTION_DENOMINATOR = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION;
export const FIRST_PERSON_ID = 1000;
export const FIRST_AUCTION_ID = 1000;
const FIRST_CATEGORY_ID = 10;
const NUM_CATEGORIES = 5;
/** A hot seller, auction or bidder is one of every this many (NexmarkGenerator's HOT_*_RATIO). */
const HOT_RATIO = 100;
/** 1 in this many auctions / bids go to a cold seller / auction / bidder (NexmarkConfiguration's defaults). */
const HOT_SELLERS_RATIO = 4;
const HOT_AUCTION_RATIO = 2;
const HOT_BIDDERS_RATIO = 4;
const NUM_ACTIVE_PEOPLE = 1000;
const NUM_IN_FLIGHT_AUCTIONS = 100;
/** How far past the newest id a cold choice may reach (an id whose event is yet to come). */
const PERSON_ID_LEAD = 10;
const AUCTION_ID_LEAD = 10;

const FIRST_NAMES = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"];
const LAST_NAMES = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"];
const US_STATES = ["AZ", "CA", "ID", "OR", "WA", "WY"];
const US_CITIES = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"];
const HOT_CHANNELS = ["Google", "Facebook", "Baidu", "Apple"];

/** Event time of event `n`. */
export function eventTime(n: number, config: GeneratorConfig): number {
  return config.baseTime + Math.floor((n * 1000) / config.eventsPerSecond);
}

/** Id (from 0) of the newest person at event n. */
function lastPerson(n: number): number {
  const epoch = Math.floor(n / PROPORTION_DENOMINATOR);
  return epoch * PERSON_PROPORTION + Math.min(n % PROPORTION_DENOMINATOR, PERSON_PROPORTION - 1);
}

/** Id (from 0) of the newest auction at event n (-1 before the first). */
function lastAuction(n: number): number {
  const epoch = Math.floor(n / PROPORTION_DENOMINATOR);
  const offset = Math.min(n % PROPORTION_DENOMINATOR, PERSON_PROPORTION + AUCTION_PROPORTION - 1) - PERSON_PROPORTION;
  return epoch * AUCTION_PROPORTION + offset;
}

/** A recently active person (from 0), or one a few ids ahead. */
function coldPerson(n: number, r: EventRandom): number {
  const people = lastPerson(n) + 1;
  const active = Math.min(people, NUM_ACTIVE_PEOPLE);
  return people - active + r.nextInt(active + PERSON_ID_LEAD);
}

/** An auction (from 0) among the in-flight ones, or one a few ids ahead. */
function coldAuction(n: number, r: EventRandom): number {
  const last = Math.max(lastAuction(n), 0);
  const min = Math.max(last - NUM_IN_FLIGHT_AUCTIONS, 0);
  return min + r.nextInt(last - min + 1 + AUCTION_ID_LEAD);
}

function price(r: EventRandom): number {
  return Math.round(10 ** (r.nextDouble() * 6) * 100);
}

function person(n: number, r: EventRandom, config: GeneratorConfig): Person {
  return {
    type: "person",
    id: FIRST_PERSON_ID + lastPerson(n),
    name: `${FIRST_NAMES[r.nextInt(FIRST_NAMES.length)]} ${LAST_NAMES[r.nextInt(LAST_NAMES.length)]}`,
    emailAddress: `${r.nextString(7)}@${r.nextString(5)}.com`,
    creditCard: [0, 1, 2, 3].map(() => String(r.nextInt(10_000)).padStart(4, "0")).join(" "),
    city: US_CITIES[r.nextInt(US_CITIES.length)]!,
    state: US_STATES[r.nextInt(US_STATES.length)]!,
    dateTime: eventTime(n, config),
  };
}

function auction(n: number, r: EventRandom, config: GeneratorConfig): Auction {
  const seller = r.nextInt(HOT_SELLERS_RATIO) > 0 ? Math.floor(lastPerson(n) / HOT_RATIO) * HOT_RATIO : coldPerson(n, r);
  const initialBid = price(r);
  const dateTime = eventTime(n, config);
  // Nexmark's auction length: up to twice the event time until NUM_IN_FLIGHT_AUCTIONS more auctions start.
  const horizon = eventTime(n + Math.floor((NUM_IN_FLIGHT_AUCTIONS * PROPORTION_DENOMINATOR) / AUCTION_PROPORTION), config) - dateTime;
  return {
    type: "auction",
    id: FIRST_AUCTION_ID + lastAuction(n),
    itemName: r.nextString(20),
    description: r.nextString(100),
    initialBid,
    reserve: initialBid + price(r),
    dateTime,
    expires: dateTime + 1 + r.nextInt(Math.max(horizon * 2, 1)),
    seller: FIRST_PERSON_ID + seller,
    category: FIRST_CATEGORY_ID + r.nextInt(NUM_CATEGORIES),
  };
}

function bid(n: number, r: EventRandom, config: GeneratorConfig): Bid {
  const auctionId = r.nextInt(HOT_AUCTION_RATIO) > 0 ? Math.floor(Math.max(lastAuction(n), 0) / HOT_RATIO) * HOT_RATIO : coldAuction(n, r);
  const bidder = r.nextInt(HOT_BIDDERS_RATIO) > 0 ? Math.floor(lastPerson(n) / HOT_RATIO) * HOT_RATIO + 1 : coldPerson(n, r);
  const hot = r.nextInt(HOT_RATIO) > 0;
  const channel = hot ? HOT_CHANNELS[r.nextInt(HOT_CHANNELS.length)]! : `channel-${r.nextInt(10_000)}`;
  return {
    type: "bid",
    auction: FIRST_AUCTION_ID + auctionId,
    bidder: FIRST_PERSON_ID + bidder,
    price: price(r),
    channel,
    url: `https://www.nexmark.com/${r.nextString(5)}/${r.nextString(5)}/${r.nextString(5)}/item.htm?query=1`,
    dateTime: eventTime(n, config),
  };
}

/** Event number `n` (0, 1, 2, ...) of the stream `config` describes. */
export function nexmarkEvent(n: number, config: GeneratorConfig = DEFAULT_CONFIG): NexmarkEvent {
  const r = new EventRandom(config.seed, n);
  const offset = n % PROPORTION_DENOMINATOR;
  if (offset < PERSON_PROPORTION) return person(n, r, config);
  if (offset < PERSON_PROPORTION + AUCTION_PROPORTION) return auction(n, r, config);
  return bid(n, r, config);
}
