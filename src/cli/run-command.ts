/**
 * `eddy run FILE [--parallelism N] [-D KEY=VALUE]... [--detached] [--from-savepoint ID] [--application] [-- JOB-ARGS...]`.
 *
 * Session mode (default): bundles FILE, runs its main here to build the JobGraph, uploads the
 * bundle (content-addressed, skipped when already stored) and submits the JobGraph naming it.
 * Application mode (`--application`, Flink's application clusters): bundles and uploads only, and
 * asks the Dispatcher to run main on the cluster side (`submitApplication`).
 *
 * `-D` settings are checked here first; in session mode they are applied onto the JobGraph here, in
 * application mode they travel with the request and the Dispatcher applies them after main.
 */
import { toEddyError } from "../core/errors.js";
import type { ParsedArgs } from "./args.js";
import { connectionFlags, reportError, warnLostContact, withDispatcher, type JobResult } from "./client.js";
import { cell, formatDuration } from "./format.js";
import { Exit, type Io } from "./io.js";
import { printFailure } from "./job-commands.js";
import type { JobBundle } from "../sdk/load-job.js";
import type { JobGraphSpec } from "../jobgraph/types.js";
import type { JobConfiguration } from "../jobgraph/configuration/index.js";
import { configurationOf, configurationRefused } from "./job-configuration.js";

/** Timeout of `submitApplication`: the Dispatcher fetches the bundle and runs main (at most 60 s) first, ms. */
const APPLICATION_TIMEOUT_MS = 150_000;

/**
 * Builds the job in FILE, ships its code, submits it and prints `Job <id> submitted`. Attached:
 * waits for the terminal state and exits 0 only for FINISHED. Detached: exits 0 once accepted.
 */
export async function runCommand(args: ParsedArgs, io: Io): Promise<number> {
  const file = args.positionals[0]!;
  let conf: JobConfiguration;
  try {
    conf = await configurationOf(args);
  } catch (err) {
    return configurationRefused(io, err);
  }
  // The flag wins over -D parallelism.default.
  const flagParallelism = args.flags.parallelism as number | undefined;
  const parallelism = flagParallelism ?? conf.parallelism;
  const savepoint = args.flags["from-savepoint"] as string | undefined;
  const application = args.flags.application === true;
  let spec: JobGraphSpec | undefined;
  let bundle: JobBundle;
  try {
    const { buildJob, bundleJobFile } = await import("../sdk/load-job.js");
    if (application) bundle = await bundleJobFile(file);
    else {
      ({ spec, bundle } = await buildJob(file, args.rest, parallelism === undefined ? {} : { parallelism }));
      if (savepoint !== undefined) spec.config = { ...spec.config, savepoint };
    }
  } catch (err) {
    return reportError(io, toEddyError(err), false);
  }
  if (spec) {
    const { applyJobConfiguration } = await import("../jobgraph/configuration/index.js");
    try {
      applyJobConfiguration(spec, conf);
    } catch (err) {
      return configurationRefused(io, err);
    }
  }
  const configuration = Object.keys(conf.entries).length > 0 ? { configuration: conf.entries } : {};
  return withDispatcher(io, connectionFlags(args.flags), async (c) => {
    await c.uploadBundle(bundle.bytes);
    const jobId = spec
      ? await c.submit(spec)
      : await c.submitApplication(
          {
            bundle: bundle.ref,
            args: args.rest,
            ...(flagParallelism !== undefined ? { parallelism: flagParallelism } : {}),
            ...(savepoint !== undefined ? { savepoint } : {}),
            ...configuration,
          },
          APPLICATION_TIMEOUT_MS,
        );
    io.out(`Job ${jobId} submitted`);
    if (args.flags.detached) return Exit.Ok;
    const result = await c.result(jobId, { onLostContact: warnLostContact(io) });
    for (const line of renderResult(result)) io.out(line);
    if (result.state !== "FINISHED") printFailure(io, result);
    return result.state === "FINISHED" ? Exit.Ok : Exit.Refused;
  });
}

/** The lines printed for a terminal job: state, net runtime, accumulators. */
export function renderResult(r: JobResult): string[] {
  const ms = r.netRuntimeMs;
  const runtime = typeof ms === "number" && ms >= 1_000 ? `${formatDuration(ms)} (${ms} ms)` : formatDuration(ms);
  const out = [`Job ${r.jobId} ${r.state}`, `Net runtime: ${runtime}`];
  const acc = Object.entries(r.accumulators ?? {});
  if (acc.length) {
    out.push("Accumulators:");
    for (const [k, v] of acc.sort(([a], [b]) => a.localeCompare(b))) out.push(`  ${k}: ${cell(v)}`);
  }
  return out;
}
