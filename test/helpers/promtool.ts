/**
 * `promtool check metrics` on a Prometheus text, and a small parser of the text format for tests.
 * promtool's lint also flags camelCase names, which the contract's Flink names are
 * (`eddy_jobmanager_numRegisteredTaskManagers`): that one lint is expected, anything else fails.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const PROMTOOL = process.env.PROMTOOL ?? "/usr/bin/promtool";

/** Whether promtool is installed (CI installs Debian's prometheus package). */
export function hasPromtool(): boolean {
  return existsSync(PROMTOOL);
}

/** promtool's verdict: exit code and every problem line except the expected camelCase lint. */
export function promtoolCheck(text: string): { status: number | null; problems: string[]; output: string } {
  const r = spawnSync(PROMTOOL, ["check", "metrics"], { input: text, encoding: "utf8", timeout: 30_000 });
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  const problems = output
    .split("\n")
    .filter(Boolean)
    .filter((l) => !/metric names should be written in 'snake_case' not 'camelCase'$/.test(l));
  return { status: r.status, problems, output };
}

/** One sample of a Prometheus text. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the samples of a text exposition (and checks that each has a HELP and TYPE line before it). */
export function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === "HELP") helps.add(meta[2]!);
      else types.set(meta[2]!, meta[3]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const name = m[1]!;
    if (!helps.has(name) || !types.has(name)) throw new Error(`${name} has no HELP or TYPE line before its samples`);
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
    const v = m[4]!;
    samples.push({ name, labels, value: v === "+Inf" ? Number.POSITIVE_INFINITY : v === "-Inf" ? Number.NEGATIVE_INFINITY : Number(v) });
  }
  return { samples, types };
}
