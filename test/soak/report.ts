/** The soak's report: settings, faults by kind with their recovery times, jobs, leaks, violations. */
import { median } from "./checks.js";
import { describeFault, type ScheduledFault } from "./schedule.js";
import type { Recovery, JobWatch } from "./monitor.js";

/** What happened to one scheduled fault. */
export interface FaultOutcome {
  fault: ScheduledFault;
  /** When it was injected (ms since the epoch). */
  startedAt: number;
  /** One line per action done. */
  actions: string[];
  /** Kinds of the parts that found no target and did nothing. */
  skipped: string[];
  /** Undefined: the jobs were not all RUNNING again in time (a stall). */
  recovery: Recovery | undefined;
  error?: string;
}

/** Everything a report is made of. */
export interface SoakSummary {
  seed: number;
  minutes: number;
  hosts: number;
  isolated: boolean;
  fallbackReason?: string;
  leaseMs: number;
  teLossMs: number;
  wallMs: number;
  outcomes: FaultOutcome[];
  jobs: JobWatch[];
  /** Events each job emits. */
  events: number;
  /** Output lines each job had committed at the end (counted, duplicates included), in the order of `jobs`. */
  committed: number[];
  resourceLines: string[];
  violations: string[];
  runDir: string;
}

/** The fault's kind in the report: its single kind, or "double". */
export function faultLabel(f: ScheduledFault): string {
  return f.parts.length > 1 ? "double" : f.parts[0]!.kind;
}

/** When the fault's effect ended: its recovery, or its hold when it disturbed no job (never, for a stall). */
function endOf(o: FaultOutcome): number {
  const hold = Math.max(...o.fault.parts.map((p) => p.holdMs));
  return o.recovery ? o.startedAt + Math.max(hold, o.recovery.ms) : Infinity;
}

/** Faults whose time from injection to recovery overlaps another fault's. */
export function overlapping(outcomes: FaultOutcome[]): Set<FaultOutcome> {
  const out = new Set<FaultOutcome>();
  for (const a of outcomes) for (const b of outcomes) if (a !== b && a.startedAt < endOf(b) && b.startedAt < endOf(a)) out.add(a);
  return out;
}

function stats(xs: number[]): string {
  if (!xs.length) return "-";
  return `median ${(median(xs) / 1000).toFixed(2)} s, max ${(Math.max(...xs) / 1000).toFixed(2)} s`;
}

/** The reliability goals for recovery (docs/reliability.md), each with the median measured on faults that overlapped no other. */
function goals(r: SoakSummary, overlapped: Set<FaultOutcome>): string {
  const targets: Array<[string, number]> = [
    ["te-kill", 1_000],
    ["jm-kill", r.leaseMs + 1_000],
    ["nats-kill", 10_000],
  ];
  return targets
    .map(([kind, ms]) => {
      const xs = r.outcomes.filter((o) => faultLabel(o.fault) === kind && o.recovery?.disturbed && !overlapped.has(o)).map((o) => o.recovery!.ms);
      if (!xs.length) return `${kind} < ${ms / 1000} s: not measured`;
      const med = median(xs);
      return `${kind} < ${ms / 1000} s: ${(med / 1000).toFixed(2)} s ${med < ms ? "met" : "NOT met"}`;
    })
    .join("; ");
}

/** The report as text. */
export function formatReport(r: SoakSummary): string {
  const out: string[] = [];
  out.push(
    `Eddy soak: seed ${r.seed}, ${r.minutes} min, ${r.hosts} hosts (${r.isolated ? "network namespaces joined by a bridge" : `one namespace: ${r.fallbackReason}; no partitions`}), lease ${r.leaseMs} ms, TaskExecutor loss detection ${r.teLossMs} ms, wall ${(r.wallMs / 1000).toFixed(0)} s`,
  );
  out.push("Faults (recovery: fault injected -> every job's tasks all RUNNING again):");
  const kinds = [...new Set(r.outcomes.map((o) => faultLabel(o.fault)))].sort();
  const overlapped = overlapping(r.outcomes);
  for (const k of kinds) {
    const of = r.outcomes.filter((o) => faultLabel(o.fault) === k);
    const disturbed = of.filter((o) => o.recovery?.disturbed);
    const alone = disturbed.filter((o) => !overlapped.has(o)).map((o) => o.recovery!.ms);
    const undisturbed = of.filter((o) => o.recovery && !o.recovery.disturbed).length;
    const stalled = of.filter((o) => !o.recovery).length;
    const skipped = of.filter((o) => o.skipped.length).length;
    out.push(
      `  ${k.padEnd(10)} ${String(of.length).padStart(3)} faults; ${disturbed.length} restarted a job: ${stats(disturbed.map((o) => o.recovery!.ms))}; of those ${alone.length} alone (no other fault until recovered): ${stats(alone)}${undisturbed ? `; ${undisturbed} disturbed no job` : ""}${skipped ? `; ${skipped} (partly) skipped: no target` : ""}${stalled ? `; ${stalled} NOT RECOVERED` : ""}`,
    );
  }
  out.push(`Recovery goals (median of faults alone): ${goals(r, overlapped)}`);
  out.push("Jobs:");
  for (const [i, j] of r.jobs.entries()) {
    const ran = ((j.endedAt ?? Date.now()) - j.submittedAt) / 1000;
    out.push(
      `  ${j.name} ${j.jobId}: ${j.last?.state ?? "?"} after ${ran.toFixed(0)} s; ${r.committed[i]} of ${r.events} events committed; restarts ${j.restarts}; checkpoints ${j.checkpointsCompleted} completed, ${j.checkpointsFailed} failed; state ${j.latestBytes} bytes (max ${j.maxBytes})`,
    );
  }
  const first = Math.min(...r.jobs.map((j) => j.submittedAt));
  const last = Math.max(...r.jobs.map((j) => j.endedAt ?? Date.now()));
  const committed = r.committed.reduce((a, b) => a + b, 0);
  out.push(
    `Throughput: ${committed} output lines committed in ${((last - first) / 1000).toFixed(0)} s: ${(committed / ((last - first) / 1000)).toFixed(0)} events/s over both jobs`,
  );
  out.push("Long-lived processes:");
  for (const l of r.resourceLines) out.push(`  ${l}`);
  out.push("Fault log:");
  for (const o of r.outcomes) {
    const rec = o.recovery ? (o.recovery.disturbed ? `recovered in ${(o.recovery.ms / 1000).toFixed(2)} s` : "no job disturbed") : "NOT RECOVERED";
    out.push(`  ${describeFault(o.fault)} -> ${rec}${overlapped.has(o) ? " (overlapping another fault)" : ""}${o.error ? `; error: ${o.error}` : ""}`);
    for (const a of o.actions) out.push(`      ${a}`);
  }
  out.push(`Logs and NATS stores: ${r.runDir}`);
  if (r.violations.length) {
    out.push(`VIOLATIONS (${r.violations.length}):`);
    for (const v of r.violations) out.push(`  - ${v}`);
    out.push(`Replay: npm run soak -- --minutes ${r.minutes} --seed ${r.seed} --hosts ${r.hosts} --faults ${r.outcomes.length}`);
  } else {
    out.push(`No violation. Seed ${r.seed}.`);
  }
  return out.join("\n");
}
