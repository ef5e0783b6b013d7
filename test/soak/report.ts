/** The soak's report: settings, faults by kind with their recovery times, jobs, leaks, violations. */
import { describeFault, type ScheduledFault } from "./schedule.js";
import type { Recovery, JobWatch } from "./monitor.js";

/** What happened to one scheduled fault. */
export interface FaultOutcome {
  fault: ScheduledFault;
  /** When it was injected (ms since the epoch). */
  startedAt: number;
  /** One line per action done. */
  actions: string[];
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
  events: number;
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
  const s = [...xs].sort((a, b) => a - b);
  const med = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return `median ${(med / 1000).toFixed(2)} s, max ${(s[s.length - 1]! / 1000).toFixed(2)} s`;
}

/** The report as text. */
export function formatReport(r: SoakSummary): string {
  const out: string[] = [];
  out.push(`Eddy soak: seed ${r.seed}, ${r.minutes} min, ${r.hosts} hosts (${r.isolated ? "network namespaces joined by a bridge" : `one namespace: ${r.fallbackReason}; no partitions`}), lease ${r.leaseMs} ms, TaskExecutor loss detection ${r.teLossMs} ms, wall ${(r.wallMs / 1000).toFixed(0)} s`);
  out.push("Faults (recovery: fault injected -> every job's tasks all RUNNING again):");
  const kinds = [...new Set(r.outcomes.map((o) => faultLabel(o.fault)))].sort();
  const overlapped = overlapping(r.outcomes);
  for (const k of kinds) {
    const of = r.outcomes.filter((o) => faultLabel(o.fault) === k);
    const disturbed = of.filter((o) => o.recovery?.disturbed);
    const alone = disturbed.filter((o) => !overlapped.has(o)).map((o) => o.recovery!.ms);
    const undisturbed = of.filter((o) => o.recovery && !o.recovery.disturbed).length;
    const stalled = of.filter((o) => !o.recovery).length;
    out.push(`  ${k.padEnd(10)} ${String(of.length).padStart(3)} faults; ${disturbed.length} restarted a job: ${stats(disturbed.map((o) => o.recovery!.ms))}; of those ${alone.length} alone (no other fault until recovered): ${stats(alone)}${undisturbed ? `; ${undisturbed} disturbed no job` : ""}${stalled ? `; ${stalled} NOT RECOVERED` : ""}`);
  }
  out.push("Jobs:");
  for (const j of r.jobs) {
    const ran = ((j.endedAt ?? Date.now()) - j.submittedAt) / 1000;
    out.push(`  ${j.name} ${j.jobId}: ${j.last?.state ?? "?"} after ${ran.toFixed(0)} s; restarts ${j.restarts}; checkpoints ${j.checkpointsCompleted} completed, ${j.checkpointsFailed} failed; state ${j.latestBytes} bytes (max ${j.maxBytes})`);
  }
  const first = Math.min(...r.jobs.map((j) => j.submittedAt));
  const last = Math.max(...r.jobs.map((j) => j.endedAt ?? Date.now()));
  out.push(`Throughput: ${r.events} events committed in ${((last - first) / 1000).toFixed(0)} s: ${(r.events / ((last - first) / 1000)).toFixed(0)} events/s over both jobs`);
  out.push("Long-lived processes:");
  for (const l of r.resourceLines) out.push(`  ${l}`);
  out.push("Fault log:");
  for (const o of r.outcomes) {
    const rec = o.recovery ? (o.recovery.disturbed ? `recovered in ${(o.recovery.ms / 1000).toFixed(2)} s` : "no job disturbed") : "NOT RECOVERED";
    out.push(`  ${describeFault(o.fault)} -> ${rec}${overlapped.has(o) ? " (overlapping another fault)" : ""}${o.error ? `; error: ${o.error}` : ""}`);
    for (const a of o.actions) out.push(`      ${a}`);
  }
  if (r.violations.length) {
    out.push(`VIOLATIONS (${r.violations.length}):`);
    for (const v of r.violations) out.push(`  - ${v}`);
    out.push(`Replay: npm run soak -- --minutes ${r.minutes} --seed ${r.seed} --hosts ${r.hosts}   (logs kept in ${r.runDir})`);
  } else {
    out.push(`No violation. Seed ${r.seed}.`);
  }
  return out.join("\n");
}
