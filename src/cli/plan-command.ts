/**
 * `eddy plan FILE [--parallelism N] [-D KEY=VALUE]... [-- JOB-ARGS...]`: prints the JobGraph the job
 * builds, as JSON (Flink's JSON execution plan), exactly what `eddy run` would submit, bundle id and
 * `-D` settings included. Runs main here and checks the graph like the Dispatcher would; needs no cluster.
 */
import { toEddyError } from "../core/errors.js";
import type { ParsedArgs } from "./args.js";
import { reportError } from "./client.js";
import { Exit, type Io } from "./io.js";
import { configurationOf, configurationRefused } from "./job-configuration.js";
import type { JobConfiguration } from "../jobgraph/configuration/index.js";

export async function planCommand(args: ParsedArgs, io: Io): Promise<number> {
  let conf: JobConfiguration;
  try {
    conf = await configurationOf(args);
  } catch (err) {
    return configurationRefused(io, err);
  }
  const parallelism = (args.flags.parallelism as number | undefined) ?? conf.parallelism;
  try {
    const { buildJob } = await import("../sdk/load-job.js");
    const { validateJobGraph, applyJobConfiguration } = await import("../jobgraph/index.js");
    const { builtinRegistry } = await import("../runtime/invokables/index.js");
    const { spec } = await buildJob(args.positionals[0]!, args.rest, parallelism === undefined ? {} : { parallelism });
    try {
      applyJobConfiguration(spec, conf);
    } catch (err) {
      return configurationRefused(io, err);
    }
    validateJobGraph(spec, builtinRegistry);
    io.out(JSON.stringify(spec, null, 2));
    return Exit.Ok;
  } catch (err) {
    return reportError(io, toEddyError(err), false);
  }
}
