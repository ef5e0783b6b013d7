/**
 * Runs the real `eddy` command (`node bin/eddy.js <args>`) as a child process in tests: collects
 * its output line by line, waits for a line, sends signals, and collects the exit code, every wait
 * with a timeout.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { eddyBin, packageRoot } from "../../src/cluster/paths.js";

/** How an eddy process ended. */
export interface EddyExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options of {@link spawnEddy} and {@link runEddy}. */
export interface EddyProcessOptions {
  /** EDDY_NATS_URL for the child. Tests must always give one (never the shared 4222). */
  natsUrl?: string;
  /** EDDY_PREFIX for the child. */
  prefix?: string;
  /** EDDY_LOG_LEVEL for the child (default `warn`, to keep test output short). */
  logLevel?: string;
  /** More environment. */
  env?: Record<string, string>;
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** A command that runs node in a changed context (e.g. `ip netns exec <ns>`): it must exec its argument, so the pid stays node's. */
  wrap?: readonly string[];
  /** Options of node itself, before the script (e.g. `--cpu-prof`; NODE_OPTIONS refuses some). */
  nodeArgs?: readonly string[];
}

/** A running eddy child process. */
export class EddyProcess {
  /** Every complete stdout line so far. */
  readonly stdoutLines: string[] = [];
  /** Every complete stderr line so far. */
  readonly stderrLines: string[] = [];
  private readonly waiters = new Set<() => void>();
  private ended: EddyExit | undefined;
  readonly exited: Promise<EddyExit>;

  constructor(
    readonly proc: ChildProcess,
    readonly args: readonly string[],
  ) {
    this.exited = new Promise((resolve) => {
      proc.once("close", (code, signal) => {
        this.ended = { code, signal };
        this.notify();
        resolve(this.ended);
      });
    });
    lines(proc.stdout!, (l) => {
      this.stdoutLines.push(l);
      this.notify();
    });
    // EDDY_TEST_LOG_DIR keeps every child's stderr in `<dir>/<pid>-<command>.log` (for diagnosing runs that passed too).
    const logDir = process.env.EDDY_TEST_LOG_DIR;
    const logFile = logDir ? join(logDir, `${proc.pid ?? "x"}-${args[0] ?? "eddy"}.log`) : undefined;
    lines(proc.stderr!, (l) => {
      this.stderrLines.push(l);
      if (logFile) appendFileSync(logFile, `${l}\n`);
      this.notify();
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  /** All stdout so far. */
  get stdout(): string {
    return this.stdoutLines.join("\n");
  }

  /** All stderr so far. */
  get stderr(): string {
    return this.stderrLines.join("\n");
  }

  /** How it ended; undefined while running. */
  get exit(): EddyExit | undefined {
    return this.ended;
  }

  /** Resolves with the first stdout line matching `re` (already printed or to come). */
  waitForLine(re: RegExp, timeoutMs = 30_000, stream: "stdout" | "stderr" = "stdout"): Promise<string> {
    const pool = stream === "stdout" ? this.stdoutLines : this.stderrLines;
    return this.waitUntil(() => pool.find((l) => re.test(l)), timeoutMs, `a ${stream} line matching ${re}`);
  }

  /** Sends a signal (no-op once exited). */
  signal(sig: NodeJS.Signals = "SIGTERM"): void {
    if (!this.ended) this.proc.kill(sig);
  }

  /** Sends SIGKILL. */
  kill(): void {
    this.signal("SIGKILL");
  }

  /** Resolves with the exit once the process ended; rejects (and SIGKILLs it) after `timeoutMs`. */
  async waitForExit(timeoutMs = 30_000): Promise<EddyExit> {
    try {
      await this.waitUntil(() => this.ended, timeoutMs, "exit");
    } catch (err) {
      this.kill();
      throw err;
    }
    return this.ended!;
  }

  /** SIGTERM, then the exit (SIGKILL after `timeoutMs`, and the promise rejects). */
  async stop(timeoutMs = 30_000): Promise<EddyExit> {
    this.signal("SIGTERM");
    return this.waitForExit(timeoutMs);
  }

  private waitUntil<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        const v = check();
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (this.ended && what !== "exit") {
          done();
          reject(
            new Error(
              `eddy ${this.args.join(" ")} exited (${JSON.stringify(this.ended)}) before ${what}\nstdout:\n${this.stdout}\nstderr:\n${tail(this.stderr)}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`eddy ${this.args.join(" ")}: no ${what} within ${timeoutMs} ms\nstdout:\n${this.stdout}\nstderr:\n${tail(this.stderr)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(attempt);
      };
      this.waiters.add(attempt);
      attempt();
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Starts `node bin/eddy.js <args>` with the test's environment. */
export function spawnEddy(args: readonly string[], opts: EddyProcessOptions = {}): EddyProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, EDDY_LOG_LEVEL: opts.logLevel ?? "warn", ...(opts.env ?? {}) };
  if (opts.natsUrl !== undefined) env.EDDY_NATS_URL = opts.natsUrl;
  if (opts.prefix !== undefined) env.EDDY_PREFIX = opts.prefix;
  const [cmd, ...pre] = [...(opts.wrap ?? []), process.execPath];
  const proc = spawn(cmd!, [...pre, ...(opts.nodeArgs ?? []), eddyBin(), ...args], { cwd: opts.cwd ?? packageRoot(), env, stdio: ["ignore", "pipe", "pipe"] });
  return new EddyProcess(proc, args);
}

/** Runs a short eddy command to its end: its exit code and output (SIGKILL and reject after `timeoutMs`). */
export async function runEddy(
  args: readonly string[],
  opts: EddyProcessOptions & { timeoutMs?: number } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const p = spawnEddy(args, opts);
  const e = await p.waitForExit(opts.timeoutMs ?? 60_000);
  return { ...e, stdout: p.stdout, stderr: p.stderr };
}

/** True while a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Waits until none of `pids` is alive or `ms` passed; returns those still alive. */
export async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = pids.filter(pidAlive);
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function lines(stream: NodeJS.ReadableStream, onLine: (l: string) => void): void {
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  stream.on("end", () => {
    if (buf) onLine(buf);
    buf = "";
  });
}

function tail(s: string, n = 40): string {
  return s.split("\n").slice(-n).join("\n");
}
