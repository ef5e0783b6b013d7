/**
 * The long-running processes: `eddy jobmanager` and `eddy taskexecutor`. Each runs until SIGINT or
 * SIGTERM (or until its supervising `eddy cluster` disappears), then stops within a hard timeout.
 */
import { EddyError, ErrorCode, toEddyError } from "../core/errors.js";
import { resolvePrefix } from "../core/config.js";
import { resolveNatsTarget } from "../security/context.js";
import { createLogger, type Logger } from "../core/logger.js";
import { withTimeout } from "../core/time.js";
// Each daemon loads only its own entry point: a TaskExecutor process does not hold the JobManager's code.
import type { JobManagerOptions } from "../entrypoints/jobmanager.js";
import type { TaskExecutorOptions } from "../entrypoints/taskexecutor.js";
import { watchSupervisor } from "../cluster/processes.js";
import type { ParsedArgs } from "./args.js";
import type { AdaptiveSchedulerSettings } from "../scheduler/adaptive/settings.js";
import { exitCodeOf } from "./client.js";
import type { NatsAuth } from "../rpc/nats.js";
import { Exit, type Io } from "./io.js";

/** Hard limit for a graceful stop, ms (EDDY_STOP_TIMEOUT_MS). */
export function stopTimeoutMs(): number {
  const v = Number(process.env.EDDY_STOP_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 20_000;
}

/** What a daemon command starts: something with `ready` and `stop()`. */
interface Daemon {
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** `eddy jobmanager [--nats URL] [--reactive] [--scheduler default|adaptive]`. */
export function jobManagerCommand(args: ParsedArgs, io: Io): Promise<number> {
  const log = createLogger("jobmanager");
  const reactive = args.flags.reactive === true;
  const scheduler = (args.flags.scheduler as "default" | "adaptive" | undefined) ?? (reactive ? "adaptive" : "default");
  let adaptive: Partial<AdaptiveSchedulerSettings>;
  let heartbeatTimeoutMs: number | undefined;
  let sweepIntervalMs: number | undefined;
  try {
    adaptive = adaptiveSettingsFromEnv();
    heartbeatTimeoutMs = heartbeatTimeoutFromEnv();
    sweepIntervalMs = sweepIntervalFromEnv();
  } catch (err) {
    // A malformed setting in the environment is the caller's mistake, like a malformed flag.
    io.err(`eddy: ${(err as Error).message}`);
    return Promise.resolve(Exit.Usage);
  }
  return runDaemon("JobManager", io, log, async () => {
    const { startJobManager } = await import("../entrypoints/jobmanager.js");
    const opts: JobManagerOptions = {
      ...natsOptions(args),
      prefix: resolvePrefix(),
      log,
      scheduling: { scheduler, reactive, adaptive },
      ...(heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs } : {}),
      ...(sweepIntervalMs !== undefined ? { sweepIntervalMs } : {}),
      ...webOptions(args),
    };
    return startJobManager(opts);
  });
}

/**
 * `--nats` and `--context` (else EDDY_CONTEXT, EDDY_NATS_URL) as a daemon's connection options, and
 * how long it waits for a server not reachable yet (EDDY_CONNECT_WAIT_MS, default 0: it fails at once).
 */
function natsOptions(args: ParsedArgs): { natsUrl: string; natsAuth: NatsAuth; natsWaitMs?: number } {
  const target = resolveNatsTarget({ nats: args.flags.nats as string | undefined, context: args.flags.context as string | undefined });
  const natsWaitMs = intFromEnv(process.env, "EDDY_CONNECT_WAIT_MS", 0);
  return { natsUrl: target.url, natsAuth: target.auth, ...(natsWaitMs ? { natsWaitMs } : {}) };
}

/**
 * The web server of `--web-port P --web-host H --web-token T`: none for -1; the default port falls back
 * to a free one when taken (several JobManagers on one host), a port asked for explicitly does not.
 * The token is `--web-token`, else EDDY_WEB_TOKEN (an empty one is none); the web server checks its form.
 */
export function webOptions(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): Pick<JobManagerOptions, "web"> {
  const port = args.flags["web-port"] as number | undefined;
  if (port === -1) return {};
  const host = (args.flags["web-host"] as string | undefined) ?? "127.0.0.1";
  const token = (args.flags["web-token"] as string | undefined) ?? (env.EDDY_WEB_TOKEN || undefined);
  return { web: { host, port: port ?? 8081, freePortIfTaken: port === undefined, ...(token !== undefined ? { token } : {}) } };
}

/**
 * The integer in environment variable `name`, at least `min`; undefined when unset or empty. Throws
 * MalformedRequest otherwise: a malformed setting is the caller's mistake, like a malformed flag.
 */
function intFromEnv(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new EddyError(ErrorCode.MalformedRequest, `${name} must be an integer >= ${min}, got ${v}`);
  return n;
}

/**
 * The ResourceManager's heartbeat timeout for TaskExecutors from EDDY_HEARTBEAT_TIMEOUT_MS (Flink's
 * heartbeat.timeout), at least 2000 ms so that a heartbeat every second leaves room for one lost;
 * undefined: the default.
 */
export function heartbeatTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  return intFromEnv(env, "EDDY_HEARTBEAT_TIMEOUT_MS", 2000);
}

/**
 * How often the leader sweeps the checkpoint keys of ended jobs from EDDY_SWEEP_INTERVAL_MS, at
 * least 1000 ms; undefined: the default (a minute).
 */
export function sweepIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  return intFromEnv(env, "EDDY_SWEEP_INTERVAL_MS", 1000);
}

/**
 * Overrides of the adaptive scheduler's timeouts from the environment (Flink's
 * jobmanager.adaptive-scheduler.* options): EDDY_ADAPTIVE_RESOURCE_WAIT_MS,
 * EDDY_ADAPTIVE_STABILIZATION_MS, EDDY_ADAPTIVE_SCALING_INTERVAL_MS, EDDY_ADAPTIVE_MIN_PARALLELISM_INCREASE.
 */
export function adaptiveSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<AdaptiveSchedulerSettings> {
  const out: Partial<AdaptiveSchedulerSettings> = {};
  const num = (name: string, min: number) => intFromEnv(env, name, min);
  const wait = num("EDDY_ADAPTIVE_RESOURCE_WAIT_MS", -1);
  const stab = num("EDDY_ADAPTIVE_STABILIZATION_MS", 0);
  const interval = num("EDDY_ADAPTIVE_SCALING_INTERVAL_MS", 0);
  const inc = num("EDDY_ADAPTIVE_MIN_PARALLELISM_INCREASE", 1);
  if (wait !== undefined) out.resourceWaitTimeoutMs = wait;
  if (stab !== undefined) out.resourceStabilizationTimeoutMs = stab;
  if (interval !== undefined) out.scalingIntervalMinMs = interval;
  if (inc !== undefined) out.minParallelismIncrease = inc;
  return out;
}

/** `eddy taskexecutor [--nats URL] [--slots S]`. */
export function taskExecutorCommand(args: ParsedArgs, io: Io): Promise<number> {
  const log = createLogger("taskexecutor");
  return runDaemon("TaskExecutor", io, log, async () => {
    const { startTaskExecutor } = await import("../entrypoints/taskexecutor.js");
    const opts: TaskExecutorOptions = {
      ...natsOptions(args),
      prefix: resolvePrefix(),
      slots: (args.flags.slots as number | undefined) ?? 2,
      log,
    };
    return startTaskExecutor(opts);
  });
}

/**
 * Starts a daemon, then waits for SIGINT/SIGTERM (or the supervisor's disappearance) and stops
 * it within {@link stopTimeoutMs}. Exit 0 after a clean stop; 3 when NATS cannot be reached at
 * start; 1 when it fails to start, fails while running, or does not stop in time. A second
 * signal while stopping exits at once.
 */
export async function runDaemon(what: string, io: Io, log: Logger, start: () => Promise<Daemon>): Promise<number> {
  let resolveStop!: (reason: string) => void;
  const stopRequested = new Promise<string>((r) => (resolveStop = r));
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn({ signal: sig }, `${what}: second signal while stopping, exiting now`);
      process.exit(Exit.Refused);
    }
    resolveStop(sig);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const unwatch = watchSupervisor(() => resolveStop("supervisor gone"));
  try {
    let daemon: Daemon;
    try {
      daemon = await Promise.race([start(), stopRequested.then((r) => Promise.reject(new EddyError(ErrorCode.Shutdown, `stopped (${r}) while starting`)))]);
    } catch (err) {
      const e = toEddyError(err);
      if (e.code === ErrorCode.Shutdown) return Exit.Ok;
      log.error({ err: e }, `${what} failed to start`);
      io.err(`error ${e.code}: ${e.message}`);
      return exitCodeOf(e, false);
    }
    let failed: unknown;
    daemon.ready.then(
      () => log.info(`${what} ready`),
      (err) => {
        failed = err;
        resolveStop("failed");
      },
    );
    const reason = await stopRequested;
    if (failed) log.error({ err: failed }, `${what} failed`);
    log.info({ reason }, `${what} stopping`);
    try {
      await withTimeout(daemon.stop(), stopTimeoutMs(), `${what} stop`);
    } catch (err) {
      log.error({ err }, `${what} did not stop cleanly`);
      return Exit.Refused;
    }
    return failed ? Exit.Refused : Exit.Ok;
  } finally {
    unwatch();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
