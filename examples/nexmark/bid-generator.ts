/**
 * Nexmark's bids (the benchmark's auction site), generated as a pure function of the event number
 * so a parallel source can make any share of them: bid i is event i of Nexmark's stream of
 * 50-event blocks (1 person, 3 auctions, 46 bids), at Nexmark's default first event rate of 10,000
 * events/s of event time. Like NexmarkGenerator, most bids go to a few hot auctions: with
 * probability 1 - 1/HOT_AUCTION_RATIO a bid goes to the newest auction rounded down to a multiple of
 * HOT_AUCTION_RATIO, else to one of the auctions still open.
 */

/** A bid (Nexmark's Bid). */
export interface Bid {
  auction: number;
  bidder: number;
  price: number;
  channel: string;
  dateTime: number;
}

const PERSON_PROPORTION = 1;
const AUCTION_PROPORTION = 3;
const BID_PROPORTION = 46;
const PROPORTION_DENOMINATOR = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION;
const FIRST_AUCTION_ID = 1000;
const FIRST_PERSON_ID = 1000;
const HOT_AUCTION_RATIO = 100;
const HOT_BIDDER_RATIO = 100;
const NUM_IN_FLIGHT_AUCTIONS = 100;
const CHANNELS = ["Google", "Facebook", "Baidu", "Apple"];
/** Event time of event 0 (ms), and 10,000 events per second of event time. */
export const BASE_TIME = 1_436_918_400_000;
const INTER_EVENT_US = 100;

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ Math.imul(b, 0x27d4eb2d) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Event number of bid i (bids fill the last 46 places of every 50-event block). */
function eventOfBid(i: number): number {
  return Math.floor(i / BID_PROPORTION) * PROPORTION_DENOMINATOR + PERSON_PROPORTION + AUCTION_PROPORTION + (i % BID_PROPORTION);
}

/** Id of the newest auction at event `event` (auctions are events 1..3 of each block). */
function lastAuctionId(event: number): number {
  const epoch = Math.floor(event / PROPORTION_DENOMINATOR);
  const offset = Math.min(event % PROPORTION_DENOMINATOR, PERSON_PROPORTION + AUCTION_PROPORTION - 1) - PERSON_PROPORTION;
  return epoch * AUCTION_PROPORTION + Math.max(offset, 0);
}

/** Bid number i (0, 1, 2, ...). */
export function bid(i: number): Bid {
  const event = eventOfBid(i);
  const r1 = mix(event, 1);
  const r2 = mix(event, 2);
  const newest = lastAuctionId(event);
  const auction =
    r1 % HOT_AUCTION_RATIO > 0
      ? Math.floor(newest / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO
      : Math.max(0, newest - NUM_IN_FLIGHT_AUCTIONS + 1 + ((r1 >>> 8) % NUM_IN_FLIGHT_AUCTIONS));
  const persons = Math.floor(event / PROPORTION_DENOMINATOR) + 1;
  const bidder = r2 % HOT_BIDDER_RATIO > 0 ? Math.floor((persons - 1) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1 : (r2 >>> 8) % persons;
  return {
    auction: FIRST_AUCTION_ID + auction,
    bidder: FIRST_PERSON_ID + bidder,
    price: 100 + ((r2 >>> 4) % 10_000),
    channel: CHANNELS[(r1 >>> 20) % CHANNELS.length]!,
    dateTime: BASE_TIME + Math.floor((event * INTER_EVENT_US) / 1000),
  };
}
