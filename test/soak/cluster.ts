/**
 * The soak's cluster: the three-server NATS cluster (R3 buckets and streams), two `eddy jobmanager`
 * and four `eddy taskexecutor` processes, each placed on a host (round robin), under a prefix of its
 * own. Processes are replaced here (a killed TaskExecutor by a new one on its host, a killed
 * JobManager restarted on its host); every process ever started stays listed for the end checks.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { Gateway } from "../../src/rpc/gateway.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { waitFor } from "../../src/core/time.js";
import type { ClusterInfo } from "../../schemas/dispatcher-api.js";
import { spawnEddy, type EddyProcess } from "../helpers/eddy-process.js";
import { reportNodeOptions } from "../helpers/process-diagnostics.js";
import type { Host, Hosts } from "./hosts.js";
import { startSoakNats, type SoakNats } from "./nats-servers.js";

/**
 * How often the leader sweeps the checkpoint keys of ended jobs: well inside the time the leak
 * checks give cleanup, so a key a former leader wrote after its job's end is gone when they look.
 */
const SWEEP_INTERVAL_MS = 5_000;

/** One Eddy process of the soak. */
export interface SoakProcess {
  role: "jobmanager" | "taskexecutor";
  host: Host;
  proc: EddyProcess;
  startedAt: number;
  /** Set when a fault killed it (it is not expected to be alive at the end). */
  killedAt?: number;
  /** Set while a fault holds it (stopped, or about to be killed): no other fault takes it. */
  busy?: boolean;
}

/** Settings of {@link startSoakCluster}. */
export interface SoakClusterSettings {
  hosts: Hosts;
  /** Run directory: NATS stores, process logs, diagnostic reports. */
  dir: string;
  leaseMs: number;
  taskExecutors: number;
  slots: number;
  jobManagers: number;
  logLevel: string;
  /** EDDY_LOG_LEVEL of the JobManagers (default: `logLevel`). */
  jobManagerLogLevel?: string;
}

/** The running soak cluster. */
export interface SoakCluster {
  nats: SoakNats;
  prefix: string;
  subjects: Subjects;
  /** The driver's own connection (root namespace, every server's URL). */
  nc: NatsConnection;
  dispatcher: Gateway;
  /** Every Eddy process ever started, in start order. */
  processes: SoakProcess[];
  /** Starts a TaskExecutor on `host`. */
  startTaskExecutor(host: Host): SoakProcess;
  /** Starts a JobManager on `host`. */
  startJobManager(host: Host): SoakProcess;
  /** Processes of `role` that were not killed. */
  live(role: SoakProcess["role"]): SoakProcess[];
  /** The process leading the Dispatcher now (asked with `clusterInfo`), if it is one of ours. */
  leader(): Promise<SoakProcess | undefined>;
  /** Waits until `n` TaskExecutors are registered. */
  awaitTaskExecutors(n: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts NATS, the JobManagers (the first leads) and the TaskExecutors, and waits until all are registered. */
export async function startSoakCluster(s: SoakClusterSettings): Promise<SoakCluster> {
  const hosts = s.hosts.hosts;
  const logDir = join(s.dir, "logs");
  mkdirSync(logDir, { recursive: true });
  const nats = await startSoakNats(hosts, join(s.dir, "nats"), s.hosts.isolated);
  const prefix = `soak${Date.now().toString(36)}`;
  const subjects = new Subjects(prefix);
  // Every process's stderr is kept in the run's log directory (EddyProcess reads this from our environment).
  process.env.EDDY_TEST_LOG_DIR ??= logDir;
  const env = {
    natsUrl: nats.url,
    prefix,
    logLevel: s.logLevel,
    env: {
      EDDY_KV_REPLICAS: "3",
      EDDY_LEASE_MS: String(s.leaseMs),
      EDDY_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
      NODE_OPTIONS: reportNodeOptions(join(s.dir, "reports")),
    },
  };
  const processes: SoakProcess[] = [];
  const start = (role: SoakProcess["role"], host: Host, args: string[]): SoakProcess => {
    const logLevel = role === "jobmanager" ? (s.jobManagerLogLevel ?? s.logLevel) : s.logLevel;
    const p: SoakProcess = { role, host, proc: spawnEddy([role, ...args], { ...env, logLevel, wrap: host.wrap }), startedAt: Date.now() };
    processes.push(p);
    return p;
  };
  let nc: NatsConnection | undefined;
  const stop = async () => {
    await Promise.all(processes.map((p) => (p.proc.signal("SIGCONT"), p.proc.stop(10_000).catch(() => undefined))));
    await nc?.close().catch(() => undefined);
    await nats.stop();
  };
  try {
    nc = await connectNats(nats.url, "soak-driver");
    const dispatcher = new Gateway(nc, subjects.dispatcher);
    const info = () => dispatcher.ask<ClusterInfo>("clusterInfo", {}, { timeoutMs: 2_000 }).catch(() => undefined);
    const cluster: SoakCluster = {
      nats,
      prefix,
      subjects,
      nc,
      dispatcher,
      processes,
      startTaskExecutor: (host) => start("taskexecutor", host, ["--slots", String(s.slots)]),
      startJobManager: (host) => start("jobmanager", host, []),
      live: (role) => processes.filter((p) => p.role === role && p.killedAt === undefined && !p.proc.exit),
      async leader() {
        // Asked for a while: during a failover there may be no leader to answer.
        const pid = await waitFor(async () => (await info())?.leaders.dispatcher?.pid, 20_000, "a leader", 200).catch(() => undefined);
        return processes.find((p) => p.role === "jobmanager" && p.proc.pid === pid && !p.proc.exit);
      },
      async awaitTaskExecutors(n, timeoutMs) {
        await waitFor(async () => ((await info())?.taskExecutors.length ?? 0) >= n || undefined, timeoutMs, `${n} TaskExecutors registered`, 200);
      },
      stop,
    };
    cluster.startJobManager(hosts[0]!);
    for (let i = 0; i < s.taskExecutors; i++) cluster.startTaskExecutor(hosts[i % hosts.length]!);
    await cluster.awaitTaskExecutors(s.taskExecutors, 60_000);
    // The standbys start once the first one leads, so that it is the leader.
    for (let i = 1; i < s.jobManagers; i++) cluster.startJobManager(hosts[i % hosts.length]!);
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}
