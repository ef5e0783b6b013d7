/**
 * `eddy cluster`: a whole local session cluster in one command. Starts nats-server (unless
 * `--nats`), one `eddy jobmanager` and N `eddy taskexecutor` child processes, waits until the
 * Dispatcher answers `clusterInfo` listing every TaskExecutor, prints
 * `eddy cluster ready nats=<url> web=<http-url> context=<admin context>` (the JobManager's REST API
 * and dashboard, and the credentials to use it) and serves until SIGINT/SIGTERM; then stops
 * everything it started and exits 0. Secure by default (docs/security.md): the nats-server it starts
 * requires credentials per role, generated in the data dir at the first start; `--insecure` does not.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { EddyError, ErrorCode, toEddyError, InternalError } from "../core/errors.js";
import { resolvePrefix } from "../core/config.js";
import { createLogger, type Logger } from "../core/logger.js";
import { sleep } from "../core/time.js";
import { findNatsServerBinary, freePort, NatsServerError, portIsFree, startNatsServer, type NatsServerHandle } from "../cluster/nats-server.js";
import { spawnEddyProcess, stopAll, type ChildExit, type SupervisedChild } from "../cluster/processes.js";
import type { ParsedArgs } from "./args.js";
import { DispatcherClient, exitCodeOf, isTransportError } from "./client.js";
import { Exit, type Io } from "./io.js";
import type { ClusterInfo } from "./job-commands.js";
import { clusterServerConf, natsServerVersion } from "../cluster/nats-config.js";
import { authOf, readContext, resolveNatsTarget } from "../security/context.js";
import { reuseSecureSetup, writeSecureSetup, type SecureSetup } from "../security/secure-setup.js";

/**
 * The server's config in `dataDir`: Eddy's nats.conf for this server's version, with the secured
 * cluster's authorization block included (nats-server resolves an include relative to the config).
 */
function writeServerConf(dataDir: string, setup: SecureSetup | undefined): string {
  const path = join(dataDir, "nats.conf");
  const version = natsServerVersion(findNatsServerBinary());
  writeFileSync(path, clusterServerConf({ version, ...(setup ? { authInclude: relative(dataDir, setup.authConfPath) } : {}) }), { mode: 0o600 });
  return path;
}

/** The context each child runs under: its role's in a secured cluster, else the one given (or none). */
interface ChildContexts {
  jobmanager?: string;
  worker?: string;
  /** What `eddy cluster` itself asks the Dispatcher with. */
  self?: string;
}

/**
 * With `--nats` and `--context FILE`: the children use the `jobmanager.json` and `worker.json` beside
 * FILE when they exist (a directory written by `eddy secure init`), else FILE itself.
 */
function contextsBeside(file: string | undefined): ChildContexts {
  if (!file) return {};
  const beside = (name: string) => (existsSync(join(dirname(file), name)) ? join(dirname(file), name) : file);
  return { jobmanager: beside("jobmanager.json"), worker: beside("worker.json"), self: file };
}

/** How long the nats-server started here may take to accept connections, ms (its processes wait as long). */
const SERVER_START_TIMEOUT_MS = 20_000;

/** Default nats-server port of `eddy cluster` (the default client URL's). */
export const DEFAULT_CLUSTER_PORT = 4222;

function envMs(name: string, dflt: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

/** Runs `eddy cluster`. */
export async function clusterCommand(args: ParsedArgs, io: Io): Promise<number> {
  const log = createLogger("cluster");
  const teCount = (args.flags["task-executors"] as number | undefined) ?? 2;
  const slots = (args.flags.slots as number | undefined) ?? 2;
  const reactive = args.flags.reactive === true;
  const readyTimeoutMs = envMs("EDDY_CLUSTER_READY_TIMEOUT_MS", 60_000);
  const childStopMs = envMs("EDDY_STOP_TIMEOUT_MS", 10_000);

  let stopReason: string | undefined;
  let wake!: () => void;
  const stopped = new Promise<void>((r) => (wake = r));
  const requestStop = (reason: string) => {
    if (stopReason === undefined) {
      stopReason = reason;
      wake();
    }
  };
  let shuttingDown = false;
  const children: SupervisedChild[] = [];
  let server: NatsServerHandle | undefined;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      log.info({ signal: sig }, "stopping the cluster");
      requestStop(sig);
    } else {
      log.warn({ signal: sig }, "second signal: killing every process now");
      for (const c of children) void c.kill();
      void server?.kill();
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);

  let dataDir: string | undefined;
  let removeDataDir = false;
  let client: DispatcherClient | undefined;
  let code: number = Exit.Ok;
  const insecure = args.flags.insecure === true;
  try {
    let url = args.flags.nats as string | undefined;
    let ctx: ChildContexts = contextsBeside((args.flags.context as string | undefined) || process.env.EDDY_CONTEXT || undefined);
    let secure: SecureSetup | undefined;
    const prefix = resolvePrefix();
    const onExit = (c: SupervisedChild, e: ChildExit) => {
      if (shuttingDown || c.stopping()) return;
      log.error({ child: c.name, childPid: c.pid, code: e.code, signal: e.signal }, `${c.name} exited unexpectedly`);
    };
    const web = [
      ...(args.flags["web-port"] !== undefined ? ["--web-port", String(args.flags["web-port"])] : []),
      ...(args.flags["web-host"] !== undefined ? ["--web-host", String(args.flags["web-host"])] : []),
    ];
    /** Starts the JobManager and the TaskExecutors for `natsUrl`; `waitMs`: how long they wait for the server to come up. */
    const spawnChildren = (natsUrl: string, webToken: string | undefined, waitMs: number) => {
      const env = {
        EDDY_NATS_URL: natsUrl,
        EDDY_PREFIX: prefix,
        EDDY_STOP_TIMEOUT_MS: String(childStopMs),
        ...(waitMs ? { EDDY_CONNECT_WAIT_MS: String(waitMs) } : {}),
      };
      const withContext = (path: string | undefined, extra: Record<string, string> = {}) => ({ ...env, ...(path ? { EDDY_CONTEXT: path } : {}), ...extra });
      const jmEnv = withContext(ctx.jobmanager, webToken ? { EDDY_WEB_TOKEN: webToken } : {});
      children.push(spawnEddyProcess(["jobmanager", ...(reactive ? ["--reactive"] : []), ...web], { name: "jobmanager", env: jmEnv, onExit }));
      for (let i = 1; i <= teCount; i++) {
        children.push(spawnEddyProcess(["taskexecutor", "--slots", String(slots)], { name: `taskexecutor-${i}`, env: withContext(ctx.worker), onExit }));
      }
      log.info({ pids: children.map((c) => `${c.name}=${c.pid}`) }, "processes started");
    };
    if (url === undefined) {
      const given = args.flags["data-dir"] as string | undefined;
      dataDir = given ? resolve(given) : mkdtempSync(join(tmpdir(), "eddy-cluster-"));
      removeDataDir = !given;
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const requested = (args.flags.port as number | undefined) ?? DEFAULT_CLUSTER_PORT;
      if (!insecure) {
        secure = (await reuseSecureSetup(dataDir, "", prefix)) ?? (await writeSecureSetup(dataDir, { prefix, url: "" }));
        ctx = { jobmanager: secure.contexts.jobmanager, worker: secure.contexts.worker, self: secure.contexts.viewer };
      }
      const confPath = writeServerConf(dataDir, secure);
      // The processes start while the server does (each is some 0.5 s of module loading): their
      // first connection waits for it. A free port picked here can be taken before the server
      // binds it; the processes then stop and all starts again on another.
      for (let attempt = 1; ; attempt++) {
        const port = requested || (await freePort());
        url = `nats://127.0.0.1:${port}`;
        if (secure) await reuseSecureSetup(dataDir, url, prefix); // the contexts name the server's URL
        // A port another server holds (a NATS on 4222) must not get the processes' connections: they
        // start early only on a port free before the server is spawned (checked before: a bind of ours
        // while the server binds would make it fail).
        const early = !requested || (await portIsFree(port));
        // The server is spawned first (before the call's first await), the processes while it starts.
        const starting = startNatsServer({
          port,
          storeDir: dataDir,
          detached: true,
          confPath,
          readyTimeoutMs: SERVER_START_TIMEOUT_MS,
          ...(secure ? { probeAuth: authOf(readContext(secure.contexts.admin)) } : {}),
        });
        if (early) spawnChildren(url, secure?.webToken, SERVER_START_TIMEOUT_MS);
        try {
          server = await starting;
          break;
        } catch (err) {
          await stopAll(children.splice(0), childStopMs + 5_000);
          if (requested || attempt >= 3 || !(err instanceof NatsServerError && err.portTaken)) throw err;
        }
      }
      if (children.length === 0) spawnChildren(url, secure?.webToken, 0);
      log.info({ url, serverPid: server.pid, dataDir, log: server.logPath, secure: !!secure }, "nats-server started");
      const srv = server;
      void srv.exited.then(() => {
        if (!shuttingDown) {
          log.error({ serverPid: srv.pid, log: srv.logPath }, "nats-server exited unexpectedly; stopping the cluster");
          code = Exit.Refused;
          requestStop("nats-server exited");
        }
      });
    } else {
      spawnChildren(url, undefined, 0);
    }
    if (stopReason !== undefined) return code;

    const self = resolveNatsTarget({ nats: url, context: ctx.self });
    client = await DispatcherClient.connect(url, prefix, "eddy-cluster", self.auth);
    const ready = await waitUntilReady(client, children, readyTimeoutMs, () => stopReason !== undefined, log);
    if (ready) {
      io.out(`eddy cluster ready nats=${url}${ready.web ? ` web=${ready.web}` : ""}${secure ? ` context=${secure.contexts.admin}` : ""}`);
      log.info({ url, taskExecutors: teCount, slots }, "cluster ready");
      await stopped;
    }
  } catch (err) {
    const e = toEddyError(err);
    io.err(`error ${e.code}: ${e.message}`);
    log.error({ err: e }, "cluster failed to start");
    code = exitCodeOf(e, false);
  } finally {
    shuttingDown = true;
    await client?.close();
    const exits = await stopAll(children, childStopMs + 5_000);
    exits.forEach((e, i) => log.info({ child: children[i]!.name, code: e.code, signal: e.signal }, "process stopped"));
    if (server) {
      await server.stop();
      log.info("nats-server stopped");
    }
    if (dataDir && removeDataDir) rmSync(dataDir, { recursive: true, force: true });
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
  }
  return code;
}

/**
 * Polls the Dispatcher's `clusterInfo` until a Dispatcher leader is known and every TaskExecutor
 * child (matched by pid) is registered; answers that cluster view. Returns undefined when a stop was
 * requested meanwhile; throws when a child dies or the timeout passes.
 */
async function waitUntilReady(
  client: DispatcherClient,
  children: SupervisedChild[],
  timeoutMs: number,
  cancelled: () => boolean,
  log: Logger,
): Promise<ClusterInfo | undefined> {
  const deadline = Date.now() + timeoutMs;
  const tePids = children.filter((c) => c.name.startsWith("taskexecutor")).map((c) => c.pid);
  let last = "no answer from the Dispatcher yet";
  while (!cancelled()) {
    const dead = children.find((c) => !c.alive());
    if (dead) {
      const e = dead.exit()!;
      throw new InternalError(`${dead.name} (pid ${dead.pid}) exited during startup (code ${e.code}, signal ${e.signal}); see its log above`);
    }
    try {
      const info = await client.ask<ClusterInfo>("clusterInfo", {}, 2_000);
      const registered = new Set((info.taskExecutors ?? []).map((t) => t.pid));
      const missing = tePids.filter((p) => !registered.has(p));
      if (info.leaders?.dispatcher && missing.length === 0) return info;
      last = info.leaders?.dispatcher ? `${missing.length} of ${tePids.length} TaskExecutors not registered` : "no Dispatcher leader";
    } catch (err) {
      if (!isTransportError(err)) log.debug({ err }, "clusterInfo refused");
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new EddyError(ErrorCode.RpcTimeout, `cluster not ready within ${timeoutMs} ms: ${last}`);
    await sleep(25); // a short poll: the ready line waits for it
  }
  return undefined;
}
