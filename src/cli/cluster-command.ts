/**
 * `eddy cluster`: a whole local session cluster in one command. Starts nats-server (unless
 * `--nats`), one `eddy jobmanager` and N `eddy taskexecutor` child processes, waits until the
 * Dispatcher answers `clusterInfo` listing every TaskExecutor, prints
 * `eddy cluster ready nats=<url> web=<http-url>` (the JobManager's REST API and dashboard)
 * and serves until SIGINT/SIGTERM; then stops everything it started and exits 0.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { EddyError, ErrorCode, toEddyError, InternalError } from "../core/errors.js";
import { resolvePrefix } from "../core/config.js";
import { createLogger, type Logger } from "../core/logger.js";
import { sleep } from "../core/time.js";
import { startNatsServer, type NatsServerHandle } from "../cluster/nats-server.js";
import { spawnEddyProcess, stopAll, type ChildExit, type SupervisedChild } from "../cluster/processes.js";
import type { ParsedArgs } from "./args.js";
import { DispatcherClient, exitCodeOf, isTransportError } from "./client.js";
import { Exit, type Io } from "./io.js";
import type { ClusterInfo } from "./job-commands.js";

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
  try {
    let url = args.flags.nats as string | undefined;
    if (url === undefined) {
      const given = args.flags["data-dir"] as string | undefined;
      dataDir = given ? resolve(given) : mkdtempSync(join(tmpdir(), "eddy-cluster-"));
      removeDataDir = !given;
      const port = (args.flags.port as number | undefined) ?? DEFAULT_CLUSTER_PORT;
      server = await startNatsServer({ port, storeDir: dataDir, detached: true });
      url = server.url;
      log.info({ url, serverPid: server.pid, dataDir, log: server.logPath }, "nats-server started");
      const srv = server;
      void srv.exited.then(() => {
        if (!shuttingDown) {
          log.error({ serverPid: srv.pid, log: srv.logPath }, "nats-server exited unexpectedly; stopping the cluster");
          code = Exit.Refused;
          requestStop("nats-server exited");
        }
      });
    }
    if (stopReason !== undefined) return code;
    const prefix = resolvePrefix();
    const env = { EDDY_NATS_URL: url, EDDY_PREFIX: prefix, EDDY_STOP_TIMEOUT_MS: String(childStopMs) };
    const onExit = (c: SupervisedChild, e: ChildExit) => {
      if (shuttingDown || c.stopping()) return;
      log.error({ child: c.name, childPid: c.pid, code: e.code, signal: e.signal }, `${c.name} exited unexpectedly`);
    };
    const web = [
      ...(args.flags["web-port"] !== undefined ? ["--web-port", String(args.flags["web-port"])] : []),
      ...(args.flags["web-host"] !== undefined ? ["--web-host", String(args.flags["web-host"])] : []),
    ];
    children.push(spawnEddyProcess(["jobmanager", ...(reactive ? ["--reactive"] : []), ...web], { name: "jobmanager", env, onExit }));
    for (let i = 1; i <= teCount; i++) {
      children.push(spawnEddyProcess(["taskexecutor", "--slots", String(slots)], { name: `taskexecutor-${i}`, env, onExit }));
    }
    log.info({ pids: children.map((c) => `${c.name}=${c.pid}`) }, "processes started");

    client = await DispatcherClient.connect(url, prefix, "eddy-cluster");
    const ready = await waitUntilReady(client, children, readyTimeoutMs, () => stopReason !== undefined, log);
    if (ready) {
      io.out(`eddy cluster ready nats=${url}${ready.web ? ` web=${ready.web}` : ""}`);
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
