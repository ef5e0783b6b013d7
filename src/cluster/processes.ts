/**
 * Child `eddy` processes (JobManager, TaskExecutors) spawned and supervised by `eddy cluster`:
 * started with `node bin/eddy.js <args>`, watched for unexpected exits, stopped with SIGTERM and,
 * after a bounded wait, SIGKILL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { orTimeout } from "../core/time.js";
import { eddyBin } from "./paths.js";

/** Environment variable a supervised child reads to notice that its supervisor is gone. */
export const SUPERVISOR_PID_ENV = "EDDY_SUPERVISOR_PID";

/** How a process ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options of {@link spawnEddyProcess}. */
export interface SpawnEddyOptions {
  /** A name for logs ("jobmanager", "taskexecutor-1"). */
  name: string;
  /** Extra environment (merged over this process's). */
  env?: Record<string, string | undefined>;
  /** Own process group, so a terminal's Ctrl-C reaches only the supervisor (default true). */
  detached?: boolean;
  /**
   * Where the child's stdout goes: `"stderr"` (this process's stderr, the default, so that a
   * supervisor's stdout stays its own), `"inherit"` or `"ignore"`. Its stderr is always inherited.
   */
  stdout?: "stderr" | "inherit" | "ignore";
  /** Called once when the child exits, whatever the reason. */
  onExit?: (child: SupervisedChild, exit: ChildExit) => void;
}

/** A spawned child process under supervision. */
export interface SupervisedChild {
  readonly name: string;
  readonly pid: number;
  /** Resolves with how it ended. */
  readonly exited: Promise<ChildExit>;
  /** How it ended; undefined while it runs. */
  exit(): ChildExit | undefined;
  /** True while it runs. */
  alive(): boolean;
  /** True once {@link stop} or {@link kill} was called: its exit is expected. */
  stopping(): boolean;
  /** Sends a signal (no-op once it has exited). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, wait up to `timeoutMs`, then SIGKILL; resolves with how it ended. Idempotent. */
  stop(timeoutMs?: number): Promise<ChildExit>;
  /** SIGKILL; resolves with how it ended. */
  kill(): Promise<ChildExit>;
}

/**
 * Spawns `node bin/eddy.js <args>` with {@link SUPERVISOR_PID_ENV} set to this process's pid and an
 * IPC channel that carries no message: the child learns of this process's death from the channel's
 * end instead of polling for it.
 */
export function spawnEddyProcess(args: string[], opts: SpawnEddyOptions): SupervisedChild {
  const out = opts.stdout ?? "stderr";
  const env: NodeJS.ProcessEnv = { ...process.env, [SUPERVISOR_PID_ENV]: String(process.pid) };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const cp: ChildProcess = spawn(process.execPath, [eddyBin(), ...args], {
    stdio: ["ignore", out === "stderr" ? 2 : out, "inherit", "ipc"],
    env,
    detached: opts.detached ?? true,
  });
  // The channel only signals the end of either side: it must not keep this process alive.
  cp.channel?.unref();
  return supervise(cp, opts.name, opts.onExit);
}

/** Wraps an already spawned process as a {@link SupervisedChild}. */
export function supervise(cp: ChildProcess, name: string, onExit?: (child: SupervisedChild, exit: ChildExit) => void): SupervisedChild {
  let ended: ChildExit | undefined;
  let stopRequested = false;
  let resolveExit!: (e: ChildExit) => void;
  const exited = new Promise<ChildExit>((r) => (resolveExit = r));
  const finish = (e: ChildExit) => {
    if (ended) return;
    ended = e;
    resolveExit(e);
    onExit?.(child, e);
  };
  cp.once("exit", (code, signal) => finish({ code, signal }));
  cp.once("error", () => finish({ code: null, signal: null }));

  const kill = async (): Promise<ChildExit> => {
    stopRequested = true;
    if (!ended) cp.kill("SIGKILL");
    return exited;
  };
  const child: SupervisedChild = {
    name,
    pid: cp.pid ?? -1,
    exited,
    exit: () => ended,
    alive: () => ended === undefined,
    stopping: () => stopRequested,
    signal: (sig) => {
      if (!ended) cp.kill(sig);
    },
    stop: async (timeoutMs = 10_000) => {
      stopRequested = true;
      if (ended) return ended;
      cp.kill("SIGTERM");
      const res = await orTimeout(exited, timeoutMs);
      return res ?? kill();
    },
    kill,
  };
  return child;
}

/** Stops every child at once (SIGTERM, then SIGKILL after `timeoutMs`); resolves when all are gone. */
export async function stopAll(children: readonly SupervisedChild[], timeoutMs = 10_000): Promise<ChildExit[]> {
  return Promise.all(children.map((c) => c.stop(timeoutMs)));
}

/**
 * For a supervised child: calls `onOrphaned` once the supervisor named by {@link SUPERVISOR_PID_ENV}
 * is gone without stopping us. With the IPC channel {@link spawnEddyProcess} opens, its end says so
 * at once and nothing wakes this process meanwhile; without one, the parent pid is checked every
 * `everyMs`. Returns a function that stops watching; does nothing when the variable is absent.
 */
export function watchSupervisor(onOrphaned: () => void, everyMs = 1_000): () => void {
  const sup = Number(process.env[SUPERVISOR_PID_ENV]);
  if (!Number.isInteger(sup) || sup <= 0 || process.ppid !== sup) return () => undefined;
  if (process.channel) {
    process.channel.unref();
    process.once("disconnect", onOrphaned);
    return () => process.off("disconnect", onOrphaned);
  }
  const t = setInterval(() => {
    if (process.ppid !== sup) {
      clearInterval(t);
      onOrphaned();
    }
  }, everyMs);
  t.unref();
  return () => clearInterval(t);
}
