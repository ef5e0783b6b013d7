/**
 * WordCount's work with another edge before the sum, for the scaling bench's decomposition of the
 * p=2/p=1 ratio (scaling-bench.ts): `--edge forward` (each subtask counts the words of its own lines:
 * nothing crosses a thread, the sum is chained after the tokenizer) or `--edge rebalance` (round robin:
 * half the records cross to the other thread, as with keyBy, but no key is hashed), which give partial
 * counts per subtask, so they measure the runtime, not WordCount; or `--edge hash` (WordCount's keyBy
 * without the sum's combiner: every record crosses the exchange, half of them to the other thread).
 * Args: `--input FILE --output DIR --edge forward|rebalance|hash`.
 */
import { resolve } from "node:path";
import { JobBuilder, requireJobArg, type JobMain } from "eddy";

const USAGE = "wordcount-edge-job.ts -- --input FILE --output DIR --edge forward|rebalance|hash";

const wordCountEdge: JobMain = (args, ctx) => {
  const input = resolve(requireJobArg(args, "--input", USAGE));
  const output = resolve(requireJobArg(args, "--output", USAGE));
  const edge = requireJobArg(args, "--edge", USAGE);
  if (edge !== "forward" && edge !== "rebalance" && edge !== "hash") throw new Error(`--edge must be forward, rebalance or hash, got ${edge}`);
  const env = new JobBuilder(`WordCount's work, ${edge} edge`, { parallelism: ctx.parallelism ?? 1 });
  const words = env.readTextFile(input).tokenize();
  if (edge === "hash") words.keyBy(0).sum(1, { combine: false }).writeAsText(output);
  else (edge === "forward" ? words.forward() : words.rebalance()).transform("op.keyedSum", { keyIndex: 0, valueIndex: 1 }, "Partial Sum").writeAsText(output);
  return env.build();
};

export default wordCountEdge;
