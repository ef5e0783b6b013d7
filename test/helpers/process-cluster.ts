/**
 * A whole Eddy cluster of real processes for tests and benchmarks: a private nats-server with
 * JetStream (or a NATS the caller started), one or more `eddy jobmanager` processes (one leads, the
 * others stand by) and N `eddy taskexecutor` processes (killable with SIGKILL), under a prefix of
 * its own. Every wait is bounded; `stop()` stops what was started.
 *
 * Secure like `eddy cluster` unless the caller brings its NATS: the server it starts enforces Eddy's
 * roles, the JobManagers run as `jobmanager` and the TaskExecutors as `worker`, so every test of a
 * process cluster runs its components under their permissions. A connection without credentials
 * (the test's own, or a process the test starts itself) is taken as the admin (`no_auth_user`).
 */
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { Gateway } from "../../src/rpc/gateway.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { waitFor } from "../../src/core/time.js";
import { startTestNats, type TestNats } from "./nats-server.js";
import { spawnEddy, type EddyProcess } from "./eddy-process.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSecureSetup } from "../../src/security/secure-setup.js";

/** A running process cluster. */
export interface ProcessCluster {
  natsUrl: string;
  prefix: string;
  nc: NatsConnection;
  dispatcher: Gateway;
  /** The first JobManager process (the leader at the start). */
  jobManager: EddyProcess;
  /** Every JobManager process started, in order. */
  jobManagers: EddyProcess[];
  taskExecutors: EddyProcess[];
  /** The environment every process was started with (NATS URL, prefix, log level, extra env). */
  env: { natsUrl: string; prefix: string; logLevel: string; env: Record<string, string> };
  /** Starts one more TaskExecutor process and waits until it is registered. */
  addTaskExecutor(slots?: number): Promise<EddyProcess>;
  /** Starts one more JobManager process (it stands by while another leads). */
  addJobManager(): EddyProcess;
  stop(): Promise<void>;
}

/** Options of {@link startProcessCluster}. */
export interface ProcessClusterOptions {
  taskExecutors?: number;
  slots?: number;
  logLevel?: string;
  /** JobManager processes to start (default 1); the first leads. */
  jobManagers?: number;
  /** Extra environment of every process (e.g. EDDY_LEASE_MS). */
  env?: Record<string, string>;
  /** Use this NATS (comma-separated URLs) instead of starting one; the caller stops it. */
  natsUrl?: string;
  /** Extra arguments of every `eddy jobmanager` (e.g. `--reactive`, `--scheduler adaptive`). */
  jobManagerArgs?: string[];
  /** EDDY_LOG_LEVEL of the TaskExecutors (default: `logLevel`). */
  taskExecutorLogLevel?: string;
  /** Options of node for the TaskExecutor processes (their slot threads inherit them), e.g. `--cpu-prof`. */
  taskExecutorNodeArgs?: string[];
  /** Working directory of the TaskExecutor processes (default: the repository root). */
  taskExecutorCwd?: string;
  /** Run without authorization (default: secured when this helper starts the NATS server). */
  insecure?: boolean;
}

interface Info {
  taskExecutors: Array<{ id: string; pid: number }>;
}

/** Starts NATS, a JobManager process and `taskExecutors` TaskExecutor processes with `slots` slots each. */
export async function startProcessCluster(opts: ProcessClusterOptions = {}): Promise<ProcessCluster> {
  const prefix = `p${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let nats: TestNats | undefined;
  let nc: NatsConnection | undefined;
  let secureDir: string | undefined;
  const procs: EddyProcess[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop(10_000).catch(() => p.kill())));
    await nc?.close().catch(() => undefined); // best effort: the server stops next
    await nats?.stop();
    if (secureDir) rmSync(secureDir, { recursive: true, force: true });
  };
  try {
    let natsUrl = opts.natsUrl;
    let roles: Partial<Record<"jobmanager" | "worker", string>> = {};
    if (!natsUrl) {
      let conf: string | undefined;
      if (!opts.insecure) {
        secureDir = mkdtempSync(join(tmpdir(), "eddy-test-secure-"));
        const setup = await writeSecureSetup(secureDir, { prefix, url: "" });
        // The block is inlined (nats-server resolves an include relative to the config), with a user
        // of all rights for connections without credentials: no_auth_user needs a clear password.
        const block = readFileSync(setup.authConfPath, "utf8").replace(
          "users = [\n",
          'users = [\n    { user: "test-anonymous", password: "test-anonymous" }\n',
        );
        conf = `${block}\nno_auth_user: "test-anonymous"\n`;
        roles = { jobmanager: setup.contexts.jobmanager, worker: setup.contexts.worker };
      }
      nats = await startTestNats({ jetstream: true, ...(conf ? { conf } : {}) });
      natsUrl = nats.url;
    }
    const env = { natsUrl, prefix, logLevel: opts.logLevel ?? "warn", env: opts.env ?? {} };
    const asRole = (base: typeof env, role: "jobmanager" | "worker") => (roles[role] ? { ...base, env: { ...base.env, EDDY_CONTEXT: roles[role]! } } : base);
    const jobManagers: EddyProcess[] = [];
    const addJobManager = () => {
      // A free web port each: test clusters never take the default 8081 from each other or a user.
      const args = opts.jobManagerArgs ?? [];
      const jm = spawnEddy(["jobmanager", ...args, ...(args.includes("--web-port") ? [] : ["--web-port", "0"])], asRole(env, "jobmanager"));
      procs.push(jm);
      jobManagers.push(jm);
      return jm;
    };
    const jobManager = addJobManager();
    const teEnv = {
      ...asRole(env, "worker"),
      ...(opts.taskExecutorLogLevel ? { logLevel: opts.taskExecutorLogLevel } : {}),
      ...(opts.taskExecutorCwd ? { cwd: opts.taskExecutorCwd } : {}),
      ...(opts.taskExecutorNodeArgs ? { nodeArgs: opts.taskExecutorNodeArgs } : {}),
    };
    nc = await connectNats(natsUrl, "test-client");
    const dispatcher = new Gateway(nc, new Subjects(prefix).dispatcher);
    const registered = (n: number) =>
      waitFor(
        async () => {
          const info = await dispatcher.ask<Info>("clusterInfo", {}, { timeoutMs: 1_000 }).catch(() => undefined); // not answered yet: waitFor asks again
          return info && info.taskExecutors.length >= n ? info : undefined;
        },
        30_000,
        `${n} TaskExecutors registered`,
        100,
      ).catch((err: Error) => {
        // What the processes said is what explains a cluster that did not come up.
        const said = procs
          .map(
            (p) =>
              `--- eddy ${p.args.join(" ")} (pid ${p.pid}${p.exit ? `, exited ${JSON.stringify(p.exit)}` : ""}):\n${p.stderr.split("\n").slice(-8).join("\n")}`,
          )
          .join("\n");
        throw new Error(`${err.message}\n${said}`, { cause: err });
      });
    const taskExecutors: EddyProcess[] = [];
    const addTaskExecutor = async (slots = opts.slots ?? 2) => {
      const te = spawnEddy(["taskexecutor", "--slots", String(slots)], teEnv);
      procs.push(te);
      taskExecutors.push(te);
      await registered(taskExecutors.filter((p) => !p.exit).length);
      return te;
    };
    for (let i = 0; i < (opts.taskExecutors ?? 2); i++) {
      const te = spawnEddy(["taskexecutor", "--slots", String(opts.slots ?? 2)], teEnv);
      procs.push(te);
      taskExecutors.push(te);
    }
    await registered(taskExecutors.length);
    // The standbys start once the first one leads, so that it is the leader.
    for (let i = 1; i < (opts.jobManagers ?? 1); i++) addJobManager();
    return { natsUrl, prefix, nc, dispatcher, jobManager, jobManagers, taskExecutors, env, addTaskExecutor, addJobManager, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export { awaitJobResult } from "./jobs.js";

/** SIGKILLs the TaskExecutor process registered as `taskExecutorId` and waits until it exited. */
export async function killTaskExecutor(cluster: ProcessCluster, taskExecutorId: string): Promise<void> {
  const info = await cluster.dispatcher.ask<Info>("clusterInfo");
  const pid = info.taskExecutors.find((t) => t.id === taskExecutorId)?.pid;
  const proc = cluster.taskExecutors.find((p) => p.pid === pid);
  if (!proc) throw new Error(`TaskExecutor ${taskExecutorId} is not one of this cluster's processes`);
  proc.kill();
  await proc.waitForExit(10_000);
}

/**
 * The web address a JobManager process serves on, from its `"msg":"web ready"` log line (the
 * cluster's log level must include info for the JobManagers).
 */
export async function webUrlOf(jm: EddyProcess, timeoutMs = 30_000): Promise<string> {
  const line = await jm.waitForLine(/"msg":"web ready"/, timeoutMs, "stderr");
  return (JSON.parse(line) as { url: string }).url;
}
