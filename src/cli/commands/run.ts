/** `eddy run FILE [--parallelism N] [--detached] [--from-savepoint ID] [-- JOB-ARGS...]`. */
import { toEddyError } from "../../core/errors.js";
import type { ParsedArgs } from "../args.js";
import { reportError, waitForJobResult, withDispatcher, type JobResult } from "../client.js";
import { cell, formatDuration } from "../format.js";
import { Exit, type Io } from "../io.js";
import { printFailure } from "./jobs.js";

/** Timeout of the submission call (the JobGraph may be large and is persisted before the reply), ms. */
const SUBMIT_TIMEOUT_MS = 60_000;

/**
 * Builds the job in FILE, submits it and prints `Job <id> submitted`. Attached: waits for the
 * terminal state and exits 0 only for FINISHED. Detached: exits 0 once accepted.
 */
export async function runCommand(args: ParsedArgs, io: Io): Promise<number> {
  const file = args.positionals[0]!;
  const parallelism = args.flags.parallelism as number | undefined;
  let spec;
  try {
    const { loadJob } = await import("../../sdk/load-job.js");
    spec = await loadJob(file, args.rest, parallelism === undefined ? {} : { parallelism });
    const savepoint = args.flags["from-savepoint"] as string | undefined;
    if (savepoint !== undefined) spec.config = { ...spec.config, savepoint };
  } catch (err) {
    return reportError(io, toEddyError(err), false);
  }
  return withDispatcher(io, args.flags.nats as string | undefined, async (c) => {
    const { jobId } = await c.ask<{ jobId: string }>("submitJob", spec, SUBMIT_TIMEOUT_MS);
    io.out(`Job ${jobId} submitted`);
    if (args.flags.detached) return Exit.Ok;
    const result = await waitForJobResult(c, jobId, io);
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
