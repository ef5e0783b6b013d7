/**
 * WordCount: `eddy run examples/wordcount.ts [--parallelism N] -- --input FILE --output DIR`.
 * Reads FILE's lines, splits them into words (A-Z lowercased, a word is a maximal run of [a-z0-9_]),
 * counts each word and writes `<word> <count>` lines into part files in DIR.
 */
import { resolve } from "node:path";
import { JobBuilder, requireJobArg, type JobMain } from "../src/sdk/index.js";

const USAGE = "eddy run examples/wordcount.ts [--parallelism N] -- --input FILE --output DIR";

const wordCount: JobMain = (args, ctx) => {
  // Absolute paths: the TaskExecutors may run in another working directory.
  const input = resolve(requireJobArg(args, "--input", USAGE));
  const output = resolve(requireJobArg(args, "--output", USAGE));
  const env = new JobBuilder("WordCount", { parallelism: ctx.parallelism ?? 1 });
  env
    .readTextFile(input)
    .tokenize()
    .keyBy(0)
    .sum(1)
    .writeAsText(output);
  return env.build();
};

export default wordCount;
