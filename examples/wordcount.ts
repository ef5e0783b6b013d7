/**
 * WordCount: `eddy run examples/wordcount.ts [--parallelism N] -- --input FILE --output DIR [--execution-mode batch]`.
 * Reads FILE's lines, splits them into words (A-Z lowercased, a word is a maximal run of [a-z0-9_]),
 * counts each word and writes `<word> <count>` lines into part files in DIR. With
 * `--execution-mode batch` the shuffle is BLOCKING: the job runs stage by stage, in fewer slots.
 */
import { resolve } from "node:path";
import { JobBuilder, jobArg, requireJobArg, type JobMain } from "eddy";

const USAGE = "eddy run examples/wordcount.ts [--parallelism N] -- --input FILE --output DIR [--execution-mode batch|streaming]";

const wordCount: JobMain = (args, ctx) => {
  // Absolute paths: the TaskExecutors may run in another working directory.
  const input = resolve(requireJobArg(args, "--input", USAGE));
  const output = resolve(requireJobArg(args, "--output", USAGE));
  const batch = (jobArg(args, "--execution-mode") ?? "streaming").toLowerCase() === "batch";
  const env = new JobBuilder("WordCount", { parallelism: ctx.parallelism ?? 1, runtimeMode: batch ? "BATCH" : "STREAMING" });
  env.readTextFile(input).tokenize().keyBy(0).sum(1).writeAsText(output);
  return env.build();
};

export default wordCount;
