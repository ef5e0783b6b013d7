/**
 * What a stuck `eddy` process is doing, for a test's diagnostics: whether it burns CPU (a busy or
 * starved event loop) or idles (waiting on something), and, for processes started with
 * {@link REPORT_NODE_OPTIONS}, the JavaScript stack of a diagnostic report taken now.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { EddyProcess } from "./eddy-process.js";

/** NODE_OPTIONS that let {@link diagnose} take a report (SIGUSR2) into `dir`. */
export function reportNodeOptions(dir: string): string {
  return `--report-on-signal --report-directory=${dir}`;
}

/** CPU time (user + system, clock ticks) of a live process, or undefined. */
function cpuTicks(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/** One line per process on CPU use over `ms`, then the top of each new report's JavaScript stack. */
export async function diagnose(procs: readonly EddyProcess[], reportDir: string, ms = 2_000): Promise<string> {
  const before = procs.map((p) => cpuTicks(p.pid));
  await new Promise((r) => setTimeout(r, ms));
  const lines = procs.map((p, i) => {
    const a = before[i];
    const b = cpuTicks(p.pid);
    const used = a === undefined || b === undefined ? "gone" : `${(((b - a) / 100) * 1000) / ms}`.slice(0, 5);
    return `eddy ${p.args.join(" ")} (pid ${p.pid}): CPU ${used === "gone" ? "n/a (exited)" : `${used} of a core over ${ms} ms`}`;
  });
  const known = new Set(existsSync(reportDir) ? readdirSync(reportDir) : []);
  for (const p of procs) if (p.pid > 0 && !p.exit) process.kill(p.pid, "SIGUSR2");
  await new Promise((r) => setTimeout(r, 2_000));
  for (const f of existsSync(reportDir) ? readdirSync(reportDir) : []) {
    if (known.has(f) || !f.endsWith(".json")) continue;
    try {
      const r = JSON.parse(readFileSync(join(reportDir, f), "utf8")) as {
        header?: { processId?: number };
        javascriptStack?: { message?: string; stack?: string[] };
      };
      lines.push(`report of pid ${r.header?.processId}: ${r.javascriptStack?.message ?? ""}\n  ${(r.javascriptStack?.stack ?? []).slice(0, 15).join("\n  ")}`);
    } catch {
      lines.push(`report ${f} unreadable`);
    }
  }
  return lines.join("\n");
}
