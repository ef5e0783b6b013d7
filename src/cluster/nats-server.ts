/**
 * Starting and stopping a local nats-server from the repository's `nats.conf`: used by
 * `eddy cluster` and by the tests. Never touches a server it did not start.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { EddyError, ErrorCode } from "../core/errors.js";
import { orTimeout, sleep } from "../core/time.js";
import { connectNats, type NatsAuth } from "../rpc/nats.js";
import { natsConfPath } from "./paths.js";

/** A nats-server that would not start, would not become ready or could not be found. */
export class NatsServerError extends EddyError {
  override name = "NatsServerError";
  /** The server exited because its port was taken (a free port picked here may be taken by then). */
  portTaken = false;
  constructor(message: string, options?: { cause?: unknown; details?: unknown }) {
    super(ErrorCode.NatsServerFailed, message, options);
  }
}

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** Client port; 0 or absent: a free port picked here. */
  port?: number;
  /** JetStream store directory (`-sd`); created if missing. The server log goes here too. */
  storeDir: string;
  /** Configuration file (default: the repository's `nats.conf`). */
  confPath?: string;
  /** The nats-server binary (default: {@link findNatsServerBinary}). */
  binary?: string;
  /** Run in its own process group, so a terminal's Ctrl-C reaches only the parent (default false). */
  detached?: boolean;
  /** How long to wait until it accepts connections and JetStream answers (ms, default 20 000). */
  readyTimeoutMs?: number;
  /** More nats-server arguments (after Eddy's own; later flags win). */
  extraArgs?: readonly string[];
  /** The server name (default: unique per start). A clustered JetStream server keeps its name across restarts. */
  serverName?: string;
  /** More environment for the server (e.g. the variables `nats-cluster.conf` reads). */
  env?: Record<string, string>;
  /** Credentials the readiness probe connects with (a server with authorization refuses anonymous ones). */
  probeAuth?: NatsAuth;
}

/** A running nats-server started by {@link startNatsServer}. */
export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Where its stderr (its log) is written. */
  readonly logPath: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** SIGTERM, wait up to `timeoutMs` (default 5 000), then SIGKILL. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL at once (crash simulation); resolves once it is gone. */
  kill(): Promise<void>;
}

/**
 * The nats-server binary: `EDDY_NATS_SERVER` (or `NATS_SERVER_BIN`), else `nats-server` on PATH, else the usual
 * install locations (Debian puts it in /usr/sbin, often not on a user's PATH).
 */
export function findNatsServerBinary(): string {
  const explicit = process.env.EDDY_NATS_SERVER || process.env.NATS_SERVER_BIN;
  if (explicit) return explicit;
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), "/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin", "/sbin"];
  for (const d of dirs) {
    const p = join(d, "nats-server");
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  throw new NatsServerError("nats-server not found: install it (Debian: apt-get install -y nats-server) or set EDDY_NATS_SERVER");
}

/** True when `port` can be bound on 127.0.0.1 right now (nothing listens on it). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A TCP port free on 127.0.0.1 right now (bind to port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error("could not pick a free port"))));
    });
  });
}

/**
 * Starts nats-server with JetStream from `nats.conf` on 127.0.0.1 and waits until it accepts
 * connections (and is really the server started here: it is probed by its unique server name)
 * and JetStream answers. With port 0 a free port is picked, retried if another process takes it
 * first.
 */
export async function startNatsServer(opts: NatsServerOptions): Promise<NatsServerHandle> {
  const attempts = opts.port ? 1 : 3;
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = opts.port || (await freePort());
    try {
      return await startOnce(opts, port);
    } catch (err) {
      last = err;
      if (!(err instanceof NatsServerError) || !err.portTaken) throw err;
    }
  }
  throw last;
}

async function startOnce(opts: NatsServerOptions, port: number): Promise<NatsServerHandle> {
  const binary = opts.binary ?? findNatsServerBinary();
  const conf = opts.confPath ?? natsConfPath();
  mkdirSync(opts.storeDir, { recursive: true });
  const logPath = join(opts.storeDir, "nats-server.log");
  const serverName = opts.serverName ?? `eddy-${port}-${randomBytes(4).toString("hex")}`;
  const logFd = openSync(logPath, "a");
  let child: ChildProcess;
  try {
    child = spawn(binary, ["-c", conf, "-a", "127.0.0.1", "-p", String(port), "-sd", opts.storeDir, "-n", serverName, ...(opts.extraArgs ?? [])], {
      stdio: ["ignore", logFd, logFd],
      detached: opts.detached ?? false,
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
  } finally {
    closeSync(logFd);
  }
  let gone = false;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      gone = true;
      resolve();
    });
    child.once("error", (e) => {
      spawnError = e;
      gone = true;
      resolve();
    });
  });
  const url = `nats://127.0.0.1:${port}`;

  const kill = async (): Promise<void> => {
    if (!gone) child.kill("SIGKILL");
    await exited;
  };
  const stop = async (timeoutMs = 5_000): Promise<void> => {
    if (gone) return;
    child.kill("SIGTERM");
    if (
      (await orTimeout(
        exited.then(() => true),
        timeoutMs,
      )) === undefined
    )
      await kill();
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (gone) {
      if (spawnError) throw new NatsServerError(`cannot run ${binary}: ${spawnError.message}`, { cause: spawnError });
      const why = logTail(logPath);
      // The server's log is the only place that says why it exited.
      const portTaken = /address already in use/i.test(why);
      const hint = portTaken ? ` (port ${port} is taken: pick another with --port, 0 for a free one, or use the running server with --nats)` : "";
      const e = new NatsServerError(`nats-server exited during startup on port ${port}: ${why}${hint}`, { details: { logPath } });
      e.portTaken = portTaken;
      throw e;
    }
    if (await probe(url, serverName, opts.probeAuth)) break;
    if (Date.now() > deadline) {
      await kill();
      throw new NatsServerError(`nats-server on port ${port} not ready within ${opts.readyTimeoutMs ?? 20_000} ms: ${logTail(logPath)}`, {
        details: { logPath },
      });
    }
    await sleep(20); // a local server starts in about 100 ms: a coarser poll would add to every start
  }
  return { url, port, pid: child.pid ?? -1, logPath, exited, stop, kill };
}

/** True when `url` is served by the server named `serverName` and its JetStream answers. */
async function probe(url: string, serverName: string, auth?: NatsAuth): Promise<boolean> {
  let nc: Awaited<ReturnType<typeof connectNats>>;
  try {
    nc = await connectNats(url, "eddy-probe", { timeoutMs: 1_000, reconnect: false, auth });
  } catch {
    return false;
  }
  try {
    if (nc.info?.server_name !== serverName) return false;
    await nc.request("$JS.API.INFO", new Uint8Array(0), { timeout: 2_000 });
    return true;
  } catch {
    return false;
  } finally {
    await nc.close().catch(() => undefined); // the probe's answer is known; closing is best effort
  }
}

/** The fatal/error lines of a log file, else its last lines, on one line (for error messages). */
function logTail(path: string, lines = 5): string {
  try {
    const all = readFileSync(path, "utf8").trim().split("\n");
    const bad = all.filter((l) => /\[(FTL|ERR)\]/.test(l)).map((l) => l.replace(/^\[\d+\] \S+ \S+ /, ""));
    const text = (bad.length ? bad : all).slice(-lines).join(" | ");
    return text || "(empty log)";
  } catch {
    return "(no log)";
  }
}
