/**
 * The exactly-once probe (docs/writing-jobs.md, "The examples"):
 * `eddy run examples/keyed-counter.ts [--parallelism N] -- --events N --keys K [--rate R] [--checkpoint-interval MS] --output DIR`.
 * A checkpointed source emits event i = 0..N-1 with key `k<i mod K>` (at most R per second); a keyed
 * operator counts events per key in keyed state; an exactly-once file sink writes `<key> <i> <count>`,
 * visible only once the checkpoint covering it completes (or at the end of input).
 */
import { resolve } from "node:path";
import { JobBuilder, jobArg, requireJobArg, type JobMain } from "eddy";

const USAGE = "eddy run examples/keyed-counter.ts [--parallelism N] -- --events N --keys K [--rate R] [--checkpoint-interval MS] --output DIR";

function intArg(args: string[], flag: string, dflt?: number): number {
  const v = dflt === undefined ? requireJobArg(args, flag, USAGE) : (jobArg(args, flag) ?? String(dflt));
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got ${v}\nusage: ${USAGE}`);
  return n;
}

const keyedCounter: JobMain = (args, ctx) => {
  const events = intArg(args, "--events");
  const keys = Math.max(1, intArg(args, "--keys"));
  const rate = intArg(args, "--rate", 0);
  const interval = intArg(args, "--checkpoint-interval", 1000);
  const output = resolve(requireJobArg(args, "--output", USAGE));
  const env = new JobBuilder("KeyedCounter", {
    parallelism: ctx.parallelism ?? 1,
    checkpointing: { intervalMs: Math.max(10, interval) },
  });
  env.keyedEvents(events, keys, rate).keyBy(0).countPerKey().writeAsText(output);
  return env.build();
};

export default keyedCounter;
