/**
 * The job SDK: what a job file imports. A job file's default export is a {@link JobMain}:
 *
 * ```ts
 * import { JobBuilder, requireJobArg, type JobMain } from "../src/sdk/index.js";
 * const main: JobMain = (args, ctx) => {
 *   const env = new JobBuilder("WordCount", { parallelism: ctx.parallelism });
 *   env.readTextFile(requireJobArg(args, "--input")).tokenize().keyBy(0).sum(1).writeAsText(requireJobArg(args, "--output"));
 *   return env.build();
 * };
 * export default main;
 * ```
 *
 * The loader used by `eddy run` lives in `./load-job.js` (kept out of this module so job bundles stay small).
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { JobGraphSpec } from "../jobgraph/types.js";

export { JobBuilder, DataStream, KeyedStream, DataStreamSink, type JobOptions, type FieldOf } from "./builder.js";
export type { JobGraphSpec, JobVertexSpec, JobEdgeSpec, PartitionerType } from "../jobgraph/types.js";

/** What `eddy run` tells the job function besides its arguments. */
export interface JobContext {
  /** `eddy run --parallelism N`, when given. */
  parallelism?: number;
}

/** The default export of a job file. */
export type JobMain = (args: string[], ctx: JobContext) => JobGraphSpec | Promise<JobGraphSpec>;

/** The value of `--flag VALUE` or `--flag=VALUE` in `args` (the last one wins), or undefined. */
export function jobArg(args: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === flag && i + 1 < args.length) value = args[++i];
    else if (a.startsWith(`${flag}=`)) value = a.slice(flag.length + 1);
  }
  return value;
}

/** Like {@link jobArg} but required: throws ValidationError MalformedRequest naming the flag (and `usage`). */
export function requireJobArg(args: readonly string[], flag: string, usage?: string): string {
  const v = jobArg(args, flag);
  if (v === undefined || v === "") {
    throw new ValidationError(ErrorCode.MalformedRequest, `missing job argument ${flag} <value>${usage ? `; usage: ${usage}` : ""}`);
  }
  return v;
}
