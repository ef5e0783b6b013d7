/**
 * Nexmark, the streaming benchmark of an auction site: persons, auctions and bids, and queries over
 * them. `eddy run examples/nexmark.ts [--parallelism N] -- --query Q (--input FILE | --events N
 * [--rate R] [--seed S]) --output DIR`.
 *
 * - `--input FILE`: JSON lines, one event each (examples/nexmark/events.ts), event times never
 *   decreasing in file order; parallel source subtasks read byte ranges of it, so each subtask's
 *   event times never decrease either.
 * - `--events N`: events 0..N-1 of the built-in generator (examples/nexmark/generator.ts) for seed S
 *   (default 0), R events per second of event time (default 10,000); with `--rate` the source also
 *   emits at most R events per second. Each generator subtask emits increasing event numbers.
 *
 * Event time is each event's `dateTime` (monotonous per source subtask). Every output line holds the
 * query's fields separated by one TAB, in the files of DIR (one per sink subtask); the answer is the
 * multiset of all lines. Queries: q0–q3 (examples/nexmark/queries.ts), q4, q5, q7 and q8
 * (examples/nexmark/q4.ts ...).
 */
import { resolve } from "node:path";
import { jobArg, requireJobArg, StreamExecutionEnvironment, WatermarkStrategy, type DataStream, type JobMain } from "eddy";
import { parseEvent, type NexmarkEvent } from "./nexmark/events.js";
import { DEFAULT_CONFIG, nexmarkEvent, type GeneratorConfig } from "./nexmark/generator.js";
import { QUERIES, runQuery, type Query } from "./nexmark/queries.js";

const USAGE = `eddy run examples/nexmark.ts [--parallelism N] -- --query Q (--input FILE | --events N [--rate R] [--seed S]) --output DIR, Q one of ${QUERIES.join(" ")}`;

function usageError(message: string): Error {
  return new Error(`${message}\nusage: ${USAGE}`);
}

function nonNegativeInteger(args: readonly string[], flag: string): number | undefined {
  const v = jobArg(args, flag);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isSafeInteger(n) || n < 0) throw usageError(`${flag} must be a non-negative integer, got "${v}"`);
  return n;
}

function parseQuery(args: readonly string[]): Query {
  const q = requireJobArg(args, "--query", USAGE);
  if (!(QUERIES as readonly string[]).includes(q)) throw usageError(`unknown query "${q}"`);
  return q as Query;
}

/** The events from the file or the generator (as the job's arguments say), with their event times. */
export function nexmarkEvents(env: StreamExecutionEnvironment, args: readonly string[]): DataStream<NexmarkEvent> {
  const input = jobArg(args, "--input");
  const count = nonNegativeInteger(args, "--events");
  const rate = nonNegativeInteger(args, "--rate");
  const seed = nonNegativeInteger(args, "--seed");
  if ((input === undefined) === (count === undefined)) throw usageError("give exactly one of --input FILE and --events N");
  let stream: DataStream<NexmarkEvent>;
  if (input !== undefined) {
    if (rate !== undefined || seed !== undefined) throw usageError("--rate and --seed apply to --events only");
    stream = env
      .readTextFile(resolve(input))
      .uid("events-file")
      .flatMap<NexmarkEvent>((line, out) => {
        if (line.trim() !== "") out.collect(parseEvent(line));
      });
  } else {
    if (rate === 0) throw usageError("--rate must be positive");
    const config: GeneratorConfig = { ...DEFAULT_CONFIG, seed: seed ?? DEFAULT_CONFIG.seed, eventsPerSecond: rate ?? DEFAULT_CONFIG.eventsPerSecond };
    stream = env.fromGenerator(count!, (n) => nexmarkEvent(n, config), rate ? { ratePerSecond: rate } : {}).uid("events");
  }
  return stream.assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<NexmarkEvent>().withTimestampAssigner((e) => e.dateTime));
}

const nexmark: JobMain = (args, ctx) => {
  const query = parseQuery(args);
  const output = resolve(requireJobArg(args, "--output", USAGE));
  const env = new StreamExecutionEnvironment(`Nexmark ${query}`, { parallelism: ctx.parallelism ?? 1 });
  runQuery(query, nexmarkEvents(env, args)).writeAsText(output).uid("output");
  return env.build();
};

export default nexmark;
