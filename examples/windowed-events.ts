/**
 * Event-time windows over a generated click stream with late events:
 * `eddy run examples/windowed-events.ts [--parallelism N] -- --events N --output DIR [--late-every K] [--rate R] [--checkpoint-interval MS]`.
 *
 * Click i has a user (`user0`..`user49`), an amount and an event time 5 ms after click i-1's, up to
 * 400 ms out of order; every K-th click (default 50) is 3 to 7 s late. Per user, 1 s tumbling windows
 * count the clicks and sum the amounts, watermarks trail by 500 ms and windows accept late clicks for
 * 2 s more (firing again with the update); later clicks go to a side output.
 *
 * Writes DIR/windows.txt (`<user> <window start> <window end> <clicks> <amount>`, one line per firing,
 * sorted) and DIR/late.txt (`<user> <time> <amount>`, sorted). The source is non-parallel and emits a
 * watermark every 100 clicks, so which clicks are late depends on the clicks alone: the files are the
 * same at every parallelism of the windows. With `--checkpoint-interval` the job checkpoints (windows,
 * from which their timers follow, the source's position and the files' buffered lines), so after a
 * failover the files are the same too.
 */
import { join, resolve } from "node:path";
import { jobArg, OutputTag, requireJobArg, StreamExecutionEnvironment, TumblingEventTimeWindows, WatermarkStrategy, type JobMain } from "eddy";

const USAGE = "eddy run examples/windowed-events.ts [--parallelism N] -- --events N --output DIR [--late-every K] [--rate R] [--checkpoint-interval MS]";

/** One click. */
export interface Click {
  user: string;
  ts: number;
  amount: number;
}

/** Event time of click 0 (ms since the epoch). */
export const BASE_TS = 1_700_000_000_000;
export const USERS = 50;
export const WINDOW_MS = 1000;
export const OUT_OF_ORDERNESS_MS = 500;
export const ALLOWED_LATENESS_MS = 2000;
export const WATERMARK_EVERY = 100;

/** A 32-bit integer hash (murmur3's finalizer): the generator's randomness, a pure function of i. */
function mix(i: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Click i (every `lateEvery`-th one late by 3..7 s; 0: none late). */
export function click(i: number, lateEvery: number): Click {
  const h = mix(i);
  let ts = BASE_TS + i * 5 + ((h >>> 8) % 400);
  if (lateEvery > 0 && i % lateEvery === lateEvery - 1) ts -= 3000 + ((h >>> 16) % 4000);
  return { user: `user${h % USERS}`, ts, amount: 1 + ((h >>> 4) % 100) };
}

function intArg(args: string[], flag: string, dflt?: number): number {
  const v = dflt === undefined ? requireJobArg(args, flag, USAGE) : (jobArg(args, flag) ?? String(dflt));
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got ${v}\nusage: ${USAGE}`);
  return n;
}

const windowedEvents: JobMain = (args, ctx) => {
  const events = intArg(args, "--events");
  const lateEvery = intArg(args, "--late-every", 50);
  const rate = intArg(args, "--rate", 0);
  const interval = intArg(args, "--checkpoint-interval", 0);
  const output = resolve(requireJobArg(args, "--output", USAGE));
  const env = new StreamExecutionEnvironment("WindowedEvents", {
    parallelism: ctx.parallelism ?? 1,
    ...(interval > 0 ? { checkpointing: { intervalMs: interval } } : {}),
  });
  const lateClicks = new OutputTag<Click>("late-clicks");
  const windows = env
    .fromGenerator(events, (i) => click(i, lateEvery), { splits: 1, ...(rate > 0 ? { ratePerSecond: rate } : {}) })
    .setParallelism(1)
    .uid("clicks")
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forBoundedOutOfOrderness<Click>(OUT_OF_ORDERNESS_MS)
        .withTimestampAssigner((c) => c.ts)
        .emitEvery(WATERMARK_EVERY),
    )
    .keyBy((c) => c.user)
    .window(TumblingEventTimeWindows.of(WINDOW_MS))
    .allowedLateness(ALLOWED_LATENESS_MS)
    .sideOutputLateData(lateClicks)
    .aggregate(
      {
        // The accumulator is changed in place and returned, as Flink allows: no array per click.
        createAccumulator: (): [number, number] => [0, 0],
        add: (c: Click, a: [number, number]): [number, number] => {
          a[0] += 1;
          a[1] += c.amount;
          return a;
        },
        getResult: (a: [number, number]) => a,
        merge: (a: [number, number], b: [number, number]): [number, number] => {
          a[0] += b[0];
          a[1] += b[1];
          return a;
        },
      },
      (user: string, w, [clicks, amount]: [number, number], out: { collect(line: string): void }) =>
        out.collect(`${user} ${w.start} ${w.end} ${clicks} ${amount}`),
    )
    .uid("click-windows");
  windows.collectToFile(join(output, "windows.txt"), { sorted: true }).uid("windows-file");
  windows
    .getSideOutput(lateClicks)
    .map((c) => `${c.user} ${c.ts} ${c.amount}`)
    .collectToFile(join(output, "late.txt"), { sorted: true })
    .uid("late-file");
  return env.build();
};

export default windowedEvents;
