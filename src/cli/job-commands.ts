/** Client commands about jobs and the cluster: list, status, cancel, info, savepoint. */
import type { ParsedArgs } from "./args.js";
import { connectionFlags, warnLostContact, withDispatcher, type JobResult } from "./client.js";
import { cell, formatBytes, formatDuration, formatTime, table } from "./format.js";
import { Exit, type Io } from "./io.js";
import { natsPosture, type NatsPosture } from "../security/nats-posture.js";

export type { JobOverview, JobDetails, LeaderView as LeaderInfo, ClusterInfo } from "../../schemas/dispatcher-api.js";
import type { JobDetails, ClusterInfo, LeaderView as LeaderInfo } from "../../schemas/dispatcher-api.js";

const connection = (a: ParsedArgs) => connectionFlags(a.flags);

/** `eddy list [--json]`. */
export function listCommand(args: ParsedArgs, io: Io): Promise<number> {
  return withDispatcher(io, connection(args), async (c) => {
    const jobs = await c.list();
    if (args.flags.json) {
      io.out(JSON.stringify(jobs));
      return Exit.Ok;
    }
    if (jobs.length === 0) {
      io.out("No jobs.");
      return Exit.Ok;
    }
    const sorted = [...jobs].sort((a, b) => (a.startTime ?? 0) - (b.startTime ?? 0));
    const rows = sorted.map((j) => [
      j.id,
      j.name,
      j.state,
      formatTime(j.startTime),
      formatTime(j.endTime),
      formatDuration(j.startTime == null ? null : (j.endTime ?? Date.now()) - j.startTime),
    ]);
    for (const l of table(["JOB ID", "NAME", "STATE", "START", "END", "DURATION"], rows)) io.out(l);
    return Exit.Ok;
  });
}

/** `eddy status JOBID [--json]`. */
export function statusCommand(args: ParsedArgs, io: Io): Promise<number> {
  const jobId = args.positionals[0]!;
  return withDispatcher(io, connection(args), async (c) => {
    const job = await c.status(jobId);
    if (args.flags.json) {
      io.out(JSON.stringify(job));
      return Exit.Ok;
    }
    for (const l of renderStatus(job)) io.out(l);
    return Exit.Ok;
  });
}

/** The human-readable form of `eddy status`. */
export function renderStatus(job: JobDetails): string[] {
  const out = [`Job ${job.id} "${job.name}": ${job.state}`, ""];
  const vertices = job.vertices ?? [];
  const summary = (subs: JobDetails["vertices"][number]["subtasks"]) => {
    const counts = new Map<string, number>();
    for (const s of subs ?? []) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
    return [...counts].map(([s, n]) => `${n} ${s}`).join(", ") || "-";
  };
  out.push(
    ...table(
      ["VERTEX", "NAME", "PARALLELISM", "MAX", "STATE", "SUBTASKS"],
      vertices.map((v) => [v.id, v.name, cell(v.parallelism), cell(v.maxParallelism), v.state, summary(v.subtasks)]),
    ),
  );
  const all = vertices.flatMap((v) => (v.subtasks ?? []).map((s) => [v.id, cell(s.index), s.state, cell(s.attempt), cell(s.taskExecutor)]));
  if (all.length > 0 && all.length <= 100) out.push("", ...table(["VERTEX", "SUBTASK", "STATE", "ATTEMPT", "TASK EXECUTOR"], all));
  else if (all.length > 100) out.push("", `(${all.length} subtasks: use --json to see each)`);
  const cp = job.checkpoints;
  if (cp) {
    const latest = cp.latest ? `, latest #${cp.latest.id} (${formatDuration(cp.latest.durationMs)}, ${formatBytes(cp.latest.bytes)})` : "";
    out.push("", `Checkpoints: ${cp.completed} completed, ${cp.failed} failed${latest}`);
  }
  return out;
}

/** `eddy cancel JOBID`: exit 0 once the job is CANCELED. */
export function cancelCommand(args: ParsedArgs, io: Io): Promise<number> {
  const jobId = args.positionals[0]!;
  return withDispatcher(io, connection(args), async (c) => {
    await c.cancel(jobId);
    io.err(`Cancelling job ${jobId}...`);
    const r = await c.result(jobId, { deadlineMs: 120_000, onLostContact: warnLostContact(io) });
    io.out(`Job ${jobId} ${r.state}`);
    if (r.state === "CANCELED") return Exit.Ok;
    printFailure(io, r);
    return Exit.Refused;
  });
}

/** `eddy info [--json]`. */
export function infoCommand(args: ParsedArgs, io: Io): Promise<number> {
  return withDispatcher(io, connection(args), async (c) => {
    const info = await c.clusterInfo();
    // The leader's web address (null when it serves none), named the same by every JobManager version.
    info.web ??= info.leaders?.dispatcher?.web ?? null;
    const nats = await natsPosture(c.connection.nc, c.prefix);
    if (args.flags.json) {
      io.out(JSON.stringify({ ...info, nats }));
      return Exit.Ok;
    }
    for (const l of renderInfo(info)) io.out(l);
    for (const l of renderPosture(nats)) io.out(l);
    return Exit.Ok;
  });
}

/** The human-readable form of `eddy info`. */
export function renderInfo(info: ClusterInfo): string[] {
  const leader = (l: LeaderInfo | null | undefined) => (l ? `${l.id} (pid ${l.pid} on ${l.host}, since ${formatTime(l.since)})` : "none");
  const tes = info.taskExecutors ?? [];
  const slots = tes.reduce((n, t) => n + (t.slots ?? 0), 0);
  const free = tes.reduce((n, t) => n + (t.freeSlots ?? 0), 0);
  const out = [
    `Dispatcher leader:      ${leader(info.leaders?.dispatcher)}`,
    `ResourceManager leader: ${leader(info.leaders?.resourceManager)}`,
    `TaskExecutors:          ${tes.length} (${slots} slots, ${free} free)`,
    `Web (REST, dashboard):  ${info.web ?? "none"}`,
  ];
  if (tes.length)
    out.push(
      "",
      ...table(
        ["TASK EXECUTOR", "HOST", "PID", "SLOTS", "FREE"],
        tes.map((t) => [t.id, t.host, cell(t.pid), cell(t.slots), cell(t.freeSlots)]),
      ),
    );
  return out;
}

/** The NATS part of `eddy info`: the server's version and settings, and a warning per unsafe one. */
export function renderPosture(p: NatsPosture): string[] {
  const replicas = p.jetstream.replicas === null ? "unknown" : String(p.jetstream.replicas);
  const sync = p.jetstream.sync === "fixed-60s" ? "every 60 s (fixed)" : "as the server's sync_interval says";
  return [
    "",
    `NATS server:            ${p.version}, credentials ${p.auth ? "required" : "not required"}, TLS ${p.tls ? "on" : "off"}`,
    `JetStream:              ${replicas} replica(s), written to disk ${sync}`,
    ...p.warnings.map((w) => `warning: ${w}`),
  ];
}

/**
 * `eddy savepoint JOBID [--stop]` triggers a savepoint (with `--stop`, then cancels the job) and
 * prints its id on the last line; `eddy savepoint --dispose ID` deletes one.
 */
export async function savepointCommand(args: ParsedArgs, io: Io): Promise<number> {
  const dispose = args.flags.dispose as string | undefined;
  const jobId = args.positionals[0];
  if (dispose === undefined && !jobId) {
    io.err("eddy savepoint: give a JOBID, or --dispose ID");
    return Exit.Usage;
  }
  return withDispatcher(io, connection(args), async (c) => {
    if (dispose !== undefined) {
      await c.disposeSavepoint(dispose);
      io.out(`Savepoint ${dispose} disposed`);
      return Exit.Ok;
    }
    const stop = args.flags.stop === true;
    io.err(`Triggering a savepoint of job ${jobId}${stop ? " and stopping it" : ""}...`);
    io.out(await c.savepoint(jobId!, { stop, timeoutMs: 300_000 }));
    return Exit.Ok;
  });
}

/** `eddy rescale JOBID --vertex ID (--parallelism N | [--min N] [--max N])`: the dispatcher's rescaleJob. */
export async function rescaleCommand(args: ParsedArgs, io: Io): Promise<number> {
  const jobId = args.positionals[0]!;
  const vertexId = args.flags.vertex as string | undefined;
  const { parallelism, min, max } = args.flags as { parallelism?: number; min?: number; max?: number };
  if (!vertexId || (parallelism === undefined && min === undefined && max === undefined)) {
    io.err("eddy rescale: give --vertex ID and --parallelism N, or --min/--max");
    return Exit.Usage;
  }
  return withDispatcher(io, connection(args), async (c) => {
    const r = await c.rescale(jobId, vertexId, {
      ...(parallelism !== undefined ? { parallelism } : {}),
      ...(min !== undefined ? { min } : {}),
      ...(max !== undefined ? { max } : {}),
    });
    io.out(`Job ${r.jobId}: vertex ${r.vertexId} parallelism ${r.min === r.max ? r.min : `${r.min}..${r.max}`} declared`);
    return Exit.Ok;
  });
}

/** Prints the failure of a job result, if any (stack on stderr at EDDY_LOG_LEVEL=debug). */
export function printFailure(io: Io, r: JobResult): void {
  const f = r.failure;
  if (!f) return;
  io.out(`Failure: ${f.code ? `${f.code}: ` : ""}${f.message ?? "(no message)"}`);
  if (f.stack && process.env.EDDY_LOG_LEVEL === "debug") io.err(f.stack);
}
