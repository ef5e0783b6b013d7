/**
 * Footprint benchmark, against real processes (`eddy cluster --port 0` and its children):
 *  a. RSS of an idle TaskExecutor with 2 slots (at start, and after a job once its slots idled out);
 *  b. `eddy cluster` from spawn to its ready line (and `eddy --help` for reference);
 *  c. submit-to-RUNNING of a small job on free slots, p50 / p99;
 *  d. CPU of the idle cluster (every process of it, nats-server included) from /proc/<pid>/stat,
 *     and the detection of a dead TaskExecutor (SIGKILL to gone from `clusterInfo`) and of a dead
 *     leader (SIGKILL to a standby's Dispatcher answering), which a cheaper idle must not slow.
 * Each figure is printed against its target and the value measured before this work (2-core machine).
 * Run alone: `node dist/test/bench/footprint-bench.js`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { Gateway } from "../../src/rpc/gateway.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { waitFor } from "../../src/core/time.js";
import { eddyBin, packageRoot } from "../../src/cluster/paths.js";
import type { ClusterInfo, JobDetails } from "../../schemas/dispatcher-api.js";
import { awaitJobResult } from "../helpers/jobs.js";
import { parseReadyLine, type ReadyLine } from "../helpers/cluster-ready.js";
import { authOf, readContext } from "../../src/security/context.js";
import { dirname, join } from "node:path";

/**
 * Figures measured before this work on the 2-core development machine: the first four as given in the
 * issue, the detection figures with this benchmark at its parent commit (the leader's with a 3 s lease).
 */
const BEFORE = { teRssMb: 108, clusterReadyMs: 1_350, submitP50Ms: 12, idleCpuPct: 5.5, teLossMs: 497, leaderLossBeyondLeaseMs: -137 };
const TARGET = { teRssMb: 60, clusterReadyMs: 1_000, submitP50Ms: 10, idleCpuPct: 1 };
const CLK_TCK = 100;
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 30);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 10_000);
/** The steady idle window: long, so that one clock tick (10 ms) is a small share of it. */
const STEADY_MS = Number(process.env.BENCH_STEADY_MS ?? 30_000);
/** Wait after the ready line before idle figures are taken (startup's garbage collected, JIT settled). */
const SETTLE_MS = 5_000;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const median = (xs: number[]) => pct(xs, 50);
const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Direct children of `pid` (every thread's children list). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const s = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
      if (s) out.push(...s.split(/\s+/).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

/** `pid` and all its descendants. */
function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...childrenOf(all[i]!));
  return all;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

/** utime + stime of `pid`, clock ticks (0 once gone). */
export function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Percent of one core used by `pids` over `ms`. */
async function cpuPercent(pids: number[], ms: number): Promise<number> {
  const t0 = performance.now();
  const before = pids.reduce((a, p) => a + cpuTicks(p), 0);
  await sleep(ms);
  const after = pids.reduce((a, p) => a + cpuTicks(p), 0);
  return ((after - before) / CLK_TCK / ((performance.now() - t0) / 1000)) * 100;
}

/** A running `eddy cluster`. */
interface BenchCluster {
  proc: ChildProcess;
  url: string;
  prefix: string;
  readyMs: number;
  /** The environment a JobManager of this cluster needs (its role's context when secured). */
  jobManagerEnv: Record<string, string>;
  nc: NatsConnection;
  dispatcher: Gateway;
  pids(): { all: number[]; jobManagers: number[]; taskExecutors: number[]; nats: number[] };
  stop(): Promise<void>;
}

/** Spawns `eddy cluster --port 0` and waits for its ready line; `readyMs` is spawn to that line. */
async function startCluster(env: Record<string, string> = {}): Promise<BenchCluster> {
  const prefix = `fp${Date.now().toString(36)}`;
  const t0 = performance.now();
  const proc = spawn(process.execPath, [eddyBin(), "cluster", "--port", "0"], {
    cwd: packageRoot(),
    env: { ...process.env, EDDY_LOG_LEVEL: "warn", EDDY_PREFIX: prefix, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error("eddy cluster: no ready line within 60 s")), 60_000);
    proc.stdout!.setEncoding("utf8");
    proc.stdout!.on("data", (d: string) => {
      buf += d;
      const line = /^eddy cluster ready .*$/m.exec(buf)?.[0];
      if (line) {
        clearTimeout(timer);
        resolve(parseReadyLine(line));
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`eddy cluster exited (${code}) before its ready line`));
    });
  });
  const readyMs = performance.now() - t0;
  const url = ready.nats;
  // The secured cluster's admin context; a standby JobManager uses the jobmanager one beside it.
  const contexts = ready.context ? dirname(ready.context) : undefined;
  const nc = await connectNats(url, "footprint-bench", { auth: ready.context ? authOf(readContext(ready.context)) : {} });
  const dispatcher = new Gateway(nc, new Subjects(prefix).dispatcher);
  const pids = () => {
    const all = processTree(proc.pid!);
    const kind = (re: RegExp) => all.filter((p) => re.test(cmdline(p)));
    return { all, jobManagers: kind(/ jobmanager\b/), taskExecutors: kind(/ taskexecutor\b/), nats: kind(/nats-server/) };
  };
  const stop = async () => {
    await nc.close().catch(() => undefined);
    const exited = new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once("exit", () => r())));
    proc.kill("SIGTERM");
    const t = setTimeout(() => proc.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(t);
  };
  return { proc, url, prefix, readyMs, nc, dispatcher, pids, stop, jobManagerEnv: contexts ? { EDDY_CONTEXT: join(contexts, "jobmanager.json") } : {} };
}

/** Wall time of `eddy --help`, ms (median of 5). */
function helpStartupMs(): Promise<number> {
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const p = spawn(process.execPath, [eddyBin(), "--help"], { stdio: "ignore" });
      p.once("exit", () => resolve(performance.now() - t0));
      p.once("error", reject);
    });
  return (async () => {
    const xs: number[] = [];
    for (let i = 0; i < 5; i++) xs.push(await once());
    return median(xs);
  })();
}

const SMALL_JOB = {
  name: "footprint",
  vertices: [
    { id: "src", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 99 } },
    { id: "sink", invokable: "sink.discard", parallelism: 1 },
  ],
  edges: [{ source: "src", target: "sink", partitioner: "forward" }],
};

/** Submit-to-RUNNING (client clock before submitJob to the last subtask's RUNNING timestamp) and INITIALIZING-to-RUNNING. */
export async function submitToRunning(c: { dispatcher: Gateway }, runs: number): Promise<{ submit: number[]; internal: number[] }> {
  const submit: number[] = [];
  const internal: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const t0 = Date.now();
    const { jobId } = await c.dispatcher.ask<{ jobId: string }>("submitJob", SMALL_JOB);
    const r = await awaitJobResult(c.dispatcher, jobId, 30_000);
    if (r.state !== "FINISHED") throw new Error(`the small job ended ${r.state}`);
    const d = await c.dispatcher.ask<JobDetails>("requestJob", { jobId });
    const running = Math.max(...d.vertices.flatMap((v) => v.subtasks.map((s) => s.timestamps.RUNNING ?? Infinity)));
    if (i < 3) continue; // warm-up
    submit.push(running - t0);
    internal.push(running - (d.timestamps.INITIALIZING ?? t0));
  }
  return { submit, internal };
}

/** SIGKILL of one TaskExecutor to the ResourceManager no longer listing it, ms. */
async function deadTaskExecutorDetection(c: BenchCluster): Promise<number> {
  const victim = c.pids().taskExecutors[0]!;
  const t0 = performance.now();
  process.kill(victim, "SIGKILL");
  await waitFor(
    async () => {
      const info = await c.dispatcher.ask<ClusterInfo>("clusterInfo", {}, { timeoutMs: 1_000 }).catch(() => undefined);
      return info && !info.taskExecutors.some((t) => t.pid === victim) ? true : undefined;
    },
    30_000,
    "the dead TaskExecutor unregistered",
    10,
  );
  return performance.now() - t0;
}

/** With a standby JobManager started beside the cluster's: SIGKILL of the leader to the standby's Dispatcher answering, ms. */
async function leaderLossDetection(c: BenchCluster, leaseMs: number): Promise<number> {
  const standby = spawn(process.execPath, [eddyBin(), "jobmanager"], {
    cwd: packageRoot(),
    env: { ...process.env, EDDY_LOG_LEVEL: "warn", EDDY_PREFIX: c.prefix, EDDY_NATS_URL: c.url, EDDY_LEASE_MS: String(leaseMs), ...c.jobManagerEnv },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    const leader = (await c.dispatcher.ask<ClusterInfo>("clusterInfo")).leaders.dispatcher;
    if (!leader) throw new Error("no Dispatcher leader");
    await sleep(1_500); // the standby contends
    const victim = c.pids().jobManagers[0]!;
    if (victim !== leader.pid) throw new Error("the cluster's JobManager does not lead");
    const t0 = performance.now();
    process.kill(victim, "SIGKILL");
    await waitFor(
      async () => {
        const info = await c.dispatcher.ask<ClusterInfo>("clusterInfo", {}, { timeoutMs: 500 }).catch(() => undefined);
        return info && info.leaders.dispatcher?.pid === standby.pid ? true : undefined;
      },
      60_000,
      "the standby leading",
      10,
    );
    return performance.now() - t0;
  } finally {
    standby.kill("SIGTERM");
    await new Promise<void>((r) => (standby.exitCode !== null ? r() : standby.once("exit", () => r())));
  }
}

/** Runs every part and prints the figures. */
export async function footprintBench(): Promise<void> {
  const leaseMs = 6_000; // the default on one NATS server
  console.log("");
  console.log(`footprint (eddy cluster --port 0: nats-server, a JobManager, two TaskExecutors with 2 slots; before = measured before this work):`);
  console.log(`  eddy --help (direct startup, reference): ${(await helpStartupMs()).toFixed(0)} ms`);

  const readies: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await startCluster();
    readies.push(c.readyMs);
    await c.stop();
  }
  const ready = median(readies);
  console.log(
    `  b. eddy cluster, spawn to ready line: median ${ready.toFixed(0)} ms of ${readies.length} [${readies.map((x) => x.toFixed(0)).join(", ")}] (target < ${TARGET.clusterReadyMs} ms: ${verdict(ready < TARGET.clusterReadyMs)}; before ${BEFORE.clusterReadyMs} ms)`,
  );

  const c = await startCluster({ EDDY_LEASE_MS: String(leaseMs) });
  try {
    await sleep(SETTLE_MS); // past the startup work
    const p = c.pids();
    const startRss = p.taskExecutors.map(rssMb);
    // Two windows: the first still holds startup's deferred work (V8's memory reducer collects a few
    // seconds after the last allocation burst); the second is the steady idle the target is about.
    const windows: Array<{ from: number; ms: number; total: number; kinds: number[] }> = [];
    for (const [w, ms] of [IDLE_MS, STEADY_MS].entries()) {
      const from = (SETTLE_MS + w * IDLE_MS) / 1000;
      const [total, ...kinds] = await Promise.all([p.all, p.nats, p.jobManagers, p.taskExecutors, [c.proc.pid!]].map((pids) => cpuPercent(pids, ms)));
      windows.push({ from, ms, total: total!, kinds });
    }
    const idleCpu = windows[1]!.total;
    // Idle as the CPU target means it: after the steady window, startup's garbage collected.
    const idleRss = p.taskExecutors.map(rssMb);
    const idleAt = windows[1]!.from + STEADY_MS / 1000;
    console.log(
      `  a. idle TaskExecutor RSS (2 slots, ${idleAt} s after ready): ${idleRss.map((x) => x.toFixed(0)).join(" / ")} MB (target <= ${TARGET.teRssMb} MB: ${verdict(Math.max(...idleRss) <= TARGET.teRssMb)}; before ${BEFORE.teRssMb} MB); ${SETTLE_MS / 1000} s after ready ${startRss.map((x) => x.toFixed(0)).join(" / ")} MB`,
    );
    console.log(
      `  d. idle cluster CPU, ${p.all.length} processes, ${windows[1]!.from}-${windows[1]!.from + STEADY_MS / 1000} s after ready: ${idleCpu.toFixed(2)}% of a core (target < ${TARGET.idleCpuPct}%: ${verdict(idleCpu < TARGET.idleCpuPct)}; before ${BEFORE.idleCpuPct}%)`,
    );
    for (const w of windows) {
      const [nats, jm, te, sup] = w.kinds.map((x) => x.toFixed(2));
      console.log(
        `     ${w.from}-${w.from + w.ms / 1000} s after ready: ${w.total.toFixed(2)}%: nats-server ${nats}%, JobManager ${jm}%, TaskExecutors ${te}%, supervisor ${sup}%`,
      );
    }

    const lat = await submitToRunning(c, LATENCY_RUNS);
    console.log(
      `  c. submit-to-RUNNING, two-vertex job on free slots (n=${lat.submit.length}): p50 ${pct(lat.submit, 50)} ms, p99 ${pct(lat.submit, 99)} ms; INITIALIZING-to-RUNNING p50 ${pct(lat.internal, 50)} ms (target p50 < ${TARGET.submitP50Ms} ms: ${verdict(pct(lat.submit, 50) < TARGET.submitP50Ms)}; before ${BEFORE.submitP50Ms} ms)`,
    );
    console.log(
      `     TaskExecutor RSS right after the jobs: ${c
        .pids()
        .taskExecutors.map(rssMb)
        .map((x) => x.toFixed(0))
        .join(" / ")} MB`,
    );

    const teLoss = await deadTaskExecutorDetection(c);
    console.log(`  d. dead TaskExecutor (SIGKILL) to unregistered: ${teLoss.toFixed(0)} ms (before ${BEFORE.teLossMs} ms; must not be slower)`);
    const jmLoss = await leaderLossDetection(c, leaseMs);
    console.log(
      `  d. dead leader (SIGKILL) to the standby's Dispatcher answering: ${jmLoss.toFixed(0)} ms, lease ${leaseMs} ms + ${(jmLoss - leaseMs).toFixed(0)} ms (target: lease + ~1 s; before lease + ${BEFORE.leaderLossBeyondLeaseMs} ms)`,
    );
  } finally {
    await c.stop();
  }

  // Slot threads that idled out: a short EDDY_SLOT_IDLE_MS, one job, then the idle period.
  const idle = await startCluster({ EDDY_SLOT_IDLE_MS: "1000" });
  try {
    await submitToRunning(idle, 1);
    const busy = idle.pids().taskExecutors.map(rssMb);
    await sleep(3_000);
    const after = idle.pids().taskExecutors.map(rssMb);
    console.log(
      `  a. TaskExecutor RSS after 4 jobs ${busy.map((x) => x.toFixed(0)).join(" / ")} MB; once the slot threads idled out (EDDY_SLOT_IDLE_MS=1000) ${after.map((x) => x.toFixed(0)).join(" / ")} MB`,
    );
  } finally {
    await idle.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  footprintBench().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
