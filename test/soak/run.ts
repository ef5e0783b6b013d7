/**
 * One soak run: hosts, cluster, the two jobs, the seeded faults while they run, the end checks and
 * the report. Used by `npm run soak` (main.ts) and by the short soak of the test suite.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Timeouts } from "../../src/core/config.js";
import { waitFor } from "../../src/core/time.js";
import { allRunning, waitForJob } from "../helpers/jobs.js";
import { diagnose } from "../helpers/process-diagnostics.js";
import { setUpHosts } from "./hosts.js";
import { startSoakCluster } from "./cluster.js";
import { eventsFor, keyedCounterFileJob, keyedCounterJetStreamJob, type SoakJob, type SoakJobSize } from "./jobs.js";
import { awaitJobEnds } from "./end-watch.js";
import { JobMonitor } from "./monitor.js";
import { ResourceSampler } from "./resources.js";
import { FaultInjector, FaultSkipped } from "./faults.js";
import { faultSchedule, type FaultKind, type ScheduledFault } from "./schedule.js";
import { outputViolations, resourceViolations, slotLeaks, storageLeaks } from "./checks.js";
import { formatReport, type FaultOutcome, type SoakSummary } from "./report.js";

/** Settings of one run. */
export interface SoakOptions {
  minutes: number;
  seed: number;
  hosts: number;
  /** Faults to inject (default: 5 a minute, at least 8). */
  faults?: number;
  /** Events per second of each job (default 200). */
  rate?: number;
  /** Only these fault kinds (see ScheduleSettings.kinds); default all. */
  kinds?: ReadonlyArray<FaultKind | "double">;
  /** JobManager lease, ms (default 5 000). */
  leaseMs?: number;
  /**
   * Bound on the wait for the jobs' end after the last fault, ms (default 180 000 + the run's length:
   * each restart puts a job's end back by the time it lost). Within it a job is judged on its
   * committed output (test/soak/end-watch.ts).
   */
  endTimeoutMs?: number;
  /** Simulate hosts with network namespaces where possible (default true). */
  namespaces?: boolean;
  /** Keep the run directory (process logs, NATS stores) even when nothing was violated. */
  keepLogs?: boolean;
  /** Progress lines (fault injected, recovered) as they happen. */
  log?: (line: string) => void;
}

/** The outcome: the report's text, its violations, and the data behind it. */
export interface SoakResult {
  summary: SoakSummary;
  report: string;
}

const CHECKPOINT_INTERVAL_MS = 300;
const KEYS = 7;
/** Bound on the jobs' end after the last fault beyond the run's length, and on each leak to clear, ms. */
const END_TIMEOUT_MS = 180_000;
const CLEANUP_MS = 20_000;
/** Runs at least this long have their RSS and thread growth enforced. */
const RSS_CHECK_MINUTES = 5;

/** The cleanups of runs in progress, for {@link abortSoaks}. */
const inProgress = new Set<() => Promise<void>>();

/** Stops every run in progress (processes, NATS servers, namespaces): for a soak interrupted by a signal. */
export async function abortSoaks(): Promise<void> {
  await Promise.all([...inProgress].map((c) => c()));
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => undefined);
  const started = Date.now();
  const durationMs = Math.round(o.minutes * 60_000);
  const leaseMs = o.leaseMs ?? 5_000;
  const endTimeoutMs = o.endTimeoutMs ?? END_TIMEOUT_MS + durationMs;
  const teLossMs = Timeouts.heartbeatTimeout;
  const dir = mkdtempSync(join(tmpdir(), "eddy-soak-"));
  const hosts = setUpHosts(o.hosts, o.namespaces ?? true);
  const violations: string[] = [];
  const outcomes: FaultOutcome[] = [];
  let keep = o.keepLogs ?? false;
  const cleanups: Array<() => Promise<void> | void> = [() => hosts.tearDown()];
  const cleanUp = async () => {
    inProgress.delete(cleanUp);
    for (const c of cleanups.splice(0)) await Promise.resolve(c()).catch(() => undefined);
  };
  inProgress.add(cleanUp);
  try {
    // The JobManagers log each checkpoint triggered and each trigger not taken: a checkpoint stall's evidence.
    const cluster = await startSoakCluster({ hosts, dir, leaseMs, taskExecutors: 4, slots: 2, jobManagers: 2, logLevel: "info", jobManagerLogLevel: "debug" });
    cleanups.unshift(() => cluster.stop());
    // Sized to run about as long as the soak, with a quiet end in which the last faults recover.
    const quietMs = Math.min(30_000, durationMs * 0.25);
    const rate = o.rate ?? 200;
    const size: SoakJobSize = { events: eventsFor(rate, durationMs - quietMs / 2, KEYS), keys: KEYS, rate, intervalMs: CHECKPOINT_INTERVAL_MS };
    const jobs: SoakJob[] = [await keyedCounterFileJob(size, dir), await keyedCounterJetStreamJob(size, cluster.nc, cluster.prefix)];
    cleanups.unshift(() => Promise.all(jobs.map((j) => j.dispose())).then(() => undefined));
    const monitor = new JobMonitor(cluster.dispatcher);
    cleanups.unshift(() => monitor.stop());
    const ids: string[] = [];
    for (const j of jobs) {
      const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", j.spec);
      ids.push(jobId);
      monitor.watch(jobId, j.name);
    }
    monitor.start();
    for (const id of ids) await waitForJob(cluster.dispatcher, id, (d) => allRunning(d) && d.checkpoints.completed > 0, 60_000, "running and checkpointed");
    const t0 = Date.now();
    log(`jobs running (${ids.join(", ")}), ${size.events} events each at ${rate}/s; faults from now on`);
    const sampler = new ResourceSampler(() => [
      ...cluster.nats.servers.filter((s) => s.proc?.pid).map((s) => ({ label: `nats-server ${s.name}`, pid: s.proc!.pid! })),
      ...cluster.processes.filter((p) => !p.proc.exit && p.killedAt === undefined).map((p) => ({ label: p.role, pid: p.proc.pid })),
    ]);
    sampler.start();
    cleanups.unshift(() => sampler.stop());

    const warmupMs = Math.min(10_000, durationMs * 0.1);
    const schedule = faultSchedule({
      seed: o.seed,
      durationMs,
      warmupMs,
      quietMs,
      faults: o.faults ?? Math.max(8, Math.round(o.minutes * 5)),
      teLossMs,
      leaseMs,
      partitions: hosts.isolated,
      ...(o.kinds ? { kinds: o.kinds } : {}),
    });
    const injector = new FaultInjector(cluster, hosts);
    const running = schedule.map(async (f) => {
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + f.atMs - Date.now())));
      outcomes.push(await inject(f, injector, monitor, teLossMs, log));
    });
    await Promise.all(running);
    const faultsEnd = Date.now();

    // The jobs run to their end, judged on their committed output; then nothing of them may be left behind.
    const watched = jobs.map((job, i) => ({ job, watch: monitor.jobs[i]! }));
    const ends = await awaitJobEnds(watched, endTimeoutMs);
    await waitFor(() => monitor.allEnded || undefined, 10_000, "the monitor to see every job end").catch(() => undefined);
    const end = Date.now();
    sampler.sample();
    sampler.stop();
    monitor.stop();
    for (const o of outcomes)
      if (!o.recovery)
        violations.push(`fault #${o.fault.index} (${o.actions[0]}): the jobs were not all RUNNING again within ${recoveryTimeout(o.fault, teLossMs) / 1000} s`);
    for (const j of monitor.jobs)
      for (const st of j.checkpointStalls)
        violations.push(
          `${j.name} ${j.jobId}: all tasks RUNNING but no checkpoint completed or failed from ${new Date(st.from).toISOString()} ${st.to ? `to ${new Date(st.to).toISOString()}` : "to the end"} (latest completed: ${st.latest ?? "none"})`,
        );
    for (const o of outcomes) if (o.error) violations.push(`fault #${o.fault.index} could not be injected: ${o.error}`);
    const ended = monitor.jobs.filter((j) => j.endedAt !== undefined);
    if (ended.length < jobs.length) {
      // A stall: what each process is doing (CPU, JavaScript stack) is the evidence, kept in the run directory.
      const procs = cluster.processes.filter((p) => !p.proc.exit).map((p) => p.proc);
      writeFileSync(join(dir, "diagnosis.txt"), `${monitor.describe()}\n${await diagnose(procs, join(dir, "reports"))}\n`);
      const why = watched.flatMap(({ job, watch }, i) => (watch.endedAt === undefined ? [`${job.name}: ${ends[i]!.verdict ?? "not ended"}`] : []));
      violations.push(
        `jobs not ended (${why.join("; ")}): ${monitor.describe()} (what the processes were doing: ${join(dir, "diagnosis.txt")}); output and leak checks skipped for them`,
      );
    }
    // What each job committed, counted once more now that the phase is over (the report's throughput).
    const committed = await Promise.all(jobs.map((j, i) => j.committedCount().catch(() => ends[i]!.committed)));
    violations.push(...(await outputViolations(jobs.flatMap((job, i) => (monitor.jobs[i]!.endedAt !== undefined ? [{ job, watch: monitor.jobs[i]! }] : [])))));
    violations.push(
      ...(await settled(() =>
        storageLeaks(
          cluster,
          ended.map((j) => j.jobId),
        ),
      )),
    );
    if (ended.length === jobs.length) violations.push(...(await settled(() => slotLeaks(cluster, 2))));
    const warmupEnd = t0 + Math.max(warmupMs, (faultsEnd - t0) * 0.25);
    const resources = resourceViolations(sampler, t0, warmupEnd, end);
    // RSS after a warm-up means little in a short run (a standby that takes over grows to a leader's size).
    if (o.minutes >= RSS_CHECK_MINUTES) violations.push(...resources.violations);
    else
      resources.lines.push(
        `(RSS and thread growth not enforced in runs under ${RSS_CHECK_MINUTES} min${resources.violations.length ? `; would be: ${resources.violations.join("; ")}` : ""})`,
      );
    keep ||= violations.length > 0;
    const summary: SoakSummary = {
      seed: o.seed,
      minutes: o.minutes,
      hosts: o.hosts,
      isolated: hosts.isolated,
      ...(hosts.fallbackReason ? { fallbackReason: hosts.fallbackReason } : {}),
      leaseMs,
      teLossMs,
      wallMs: Date.now() - started,
      outcomes: outcomes.sort((a, b) => a.fault.index - b.fault.index),
      jobs: monitor.jobs,
      events: size.events,
      committed,
      resourceLines: resources.lines,
      violations,
      runDir: dir,
    };
    return { summary, report: formatReport(summary) };
  } catch (err) {
    keep = true;
    throw err;
  } finally {
    await cleanUp();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** How long a fault may take to recover before it counts as a stall: its hold, detection, and a minute. */
function recoveryTimeout(f: ScheduledFault, teLossMs: number): number {
  return Math.max(...f.parts.map((p) => p.holdMs)) + teLossMs + 60_000;
}

/** Injects one scheduled fault (its parts at once) and measures its recovery. */
async function inject(f: ScheduledFault, injector: FaultInjector, monitor: JobMonitor, teLossMs: number, log: (l: string) => void): Promise<FaultOutcome> {
  const startedAt = Date.now();
  const hold = Math.max(...f.parts.map((p) => p.holdMs));
  // A fault that disturbs no job within its hold and a loss detection did nothing to them.
  const recovery = monitor.recovery(startedAt, hold + teLossMs + 2_000, recoveryTimeout(f, teLossMs));
  const done = await Promise.allSettled(f.parts.map((p) => injector.inject(p)));
  const actions = done.map((d) =>
    d.status === "fulfilled" ? d.value : d.reason instanceof FaultSkipped ? `skipped: ${d.reason.message}` : `failed: ${(d.reason as Error).message}`,
  );
  const skipped = f.parts
    .filter((_, i) => done[i]!.status === "rejected" && (done[i] as PromiseRejectedResult).reason instanceof FaultSkipped)
    .map((p) => p.kind);
  const errors = done
    .filter((d) => d.status === "rejected" && !(d.reason instanceof FaultSkipped))
    .map((d) => ((d as PromiseRejectedResult).reason as Error).message);
  const r = await recovery;
  if (!r) actions.push(`not all RUNNING at the deadline: ${monitor.describe()}`);
  log(
    `fault #${f.index}: ${actions.join("; ")} -> ${r ? (r.disturbed ? `all RUNNING after ${(r.ms / 1000).toFixed(2)} s` : "no job disturbed") : "NOT RECOVERED"}`,
  );
  return { fault: f, startedAt, actions, skipped, recovery: r, ...(errors.length ? { error: errors.join("; ") } : {}) };
}

/** The check's violations once they stay the same for a while (cleanup runs in the background): the last answer after CLEANUP_MS. */
async function settled(check: () => Promise<string[]>): Promise<string[]> {
  const deadline = Date.now() + CLEANUP_MS;
  for (;;) {
    const v = await check().catch((err: Error) => [`check failed: ${err.message}`]);
    if (v.length === 0 || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}
