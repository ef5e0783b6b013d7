/**
 * `-D key=value` of `eddy run` and `eddy plan`: the job's Flink configuration, read before anything
 * is built or sent, so that a wrong key or value is a usage error (exit 2) with nothing submitted.
 */
import { toEddyError } from "../core/errors.js";
import type { JobConfiguration } from "../jobgraph/configuration/index.js";
import type { ParsedArgs } from "./args.js";
import { Exit, type Io } from "./io.js";

/** The configuration the `-D` flags give (none: an empty one). Throws ValidationError MalformedRequest naming a bad key or value. */
export async function configurationOf(args: ParsedArgs): Promise<JobConfiguration> {
  const { parseConfigurationPairs, parseJobConfiguration } = await import("../jobgraph/configuration/index.js");
  return parseJobConfiguration(parseConfigurationPairs((args.flags.D as string[] | undefined) ?? []));
}

/** Prints `error <code>: <message>` for a configuration the job cannot take, and answers exit 2. */
export function configurationRefused(io: Io, err: unknown): number {
  const e = toEddyError(err);
  io.err(`error ${e.code}: ${e.message}`);
  return Exit.Usage;
}
