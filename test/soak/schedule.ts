/**
 * The soak's fault schedule: a seeded PRNG turned into a list of faults at fixed times.
 * The same seed, duration and settings give the same schedule (kinds, times, durations and which of
 * the candidates each fault picks), so a failing run can be replayed with its seed.
 */
import { prng } from "../helpers/prng.js";

/** One fault kind the soak injects (see faults.ts for what each does). */
export type FaultKind = "te-kill" | "jm-kill" | "te-zombie" | "jm-zombie" | "nats-kill" | "partition";

/** Every single fault kind, in report order. */
export const FAULT_KINDS: readonly FaultKind[] = ["te-kill", "jm-kill", "te-zombie", "jm-zombie", "nats-kill", "partition"];

/** One action of a scheduled fault. */
export interface FaultPart {
  kind: FaultKind;
  /** In [0, 1): which of the candidate targets (TaskExecutors, hosts, servers) the fault takes. */
  pick: number;
  /** How long the fault lasts (stopped, partitioned, down), ms; 0 for an instant kill and restart. */
  holdMs: number;
  /** nats-kill only: take the server leading the checkpoint bucket's stream, not a random one. */
  streamLeader: boolean;
}

/** A scheduled fault: one part, or two at once ("double"). */
export interface ScheduledFault {
  index: number;
  /** Ms after the jobs started. */
  atMs: number;
  parts: FaultPart[];
}

/** What the schedule depends on besides the seed. */
export interface ScheduleSettings {
  seed: number;
  /** The whole run, ms. */
  durationMs: number;
  /** No fault before this (jobs running, first checkpoints taken), ms. */
  warmupMs: number;
  /** No fault starts in the last `quietMs` of the run (the jobs recover and finish), ms. */
  quietMs: number;
  /** Faults to inject (at least one of each kind and one double when there is room). */
  faults: number;
  /** A TaskExecutor's loss detection (the ResourceManager's heartbeat timeout), ms. */
  teLossMs: number;
  /** The JobManager leader lease, ms. */
  leaseMs: number;
  /** Whether hosts can be partitioned (separate network namespaces). */
  partitions: boolean;
  /** Only these kinds ("double": two at once); default every kind and doubles. */
  kinds?: ReadonlyArray<FaultKind | "double">;
}

/** Pairs never injected together: both take the same leader, or together they would take two NATS servers (a quorum). */
const EXCLUSIVE: ReadonlyArray<readonly [FaultKind, FaultKind]> = [
  ["jm-kill", "jm-zombie"],
  ["nats-kill", "partition"],
];

/** The schedule for `s`. Kinds come in shuffled rounds of every kind plus "double", so each shows up early. */
export function faultSchedule(s: ScheduleSettings): ScheduledFault[] {
  const rnd = prng(s.seed);
  const kinds = FAULT_KINDS.filter((k) => (s.partitions || k !== "partition") && (!s.kinds || s.kinds.includes(k)));
  const doubles = (!s.kinds || s.kinds.includes("double")) && kinds.length >= 2;
  const round: Array<FaultKind | "double"> = doubles ? [...kinds, "double"] : [...kinds];
  if (round.length === 0) throw new Error(`no fault kind to inject among ${s.kinds?.join(", ")}`);
  const sequence: Array<FaultKind | "double"> = [];
  while (sequence.length < s.faults) sequence.push(...shuffle([...round], rnd));
  const from = s.warmupMs;
  const to = Math.max(from, s.durationMs - s.quietMs);
  const step = (to - from) / Math.max(1, s.faults);
  const part = (kind: FaultKind): FaultPart => ({ kind, pick: rnd(), holdMs: holdMs(kind, s, rnd), streamLeader: rnd() < 0.5 });
  return sequence.slice(0, s.faults).map((k, index) => {
    // Evenly spread, each moved by up to a third of the step so the spacing varies.
    const atMs = Math.round(from + step * index + rnd() * step * 0.33);
    if (k !== "double") return { index, atMs, parts: [part(k)] };
    const first = kinds[Math.floor(rnd() * kinds.length)]!;
    const rest = kinds.filter((x) => x !== first && !EXCLUSIVE.some(([a, b]) => (a === first && b === x) || (b === first && a === x)));
    const second = rest[Math.floor(rnd() * rest.length)]!;
    return { index, atMs, parts: [part(first), part(second)] };
  });
}

function holdMs(kind: FaultKind, s: ScheduleSettings, rnd: () => number): number {
  switch (kind) {
    case "te-kill":
    case "jm-kill":
      return 0;
    // Past loss detection / the lease, by 1-3 s: the process wakes up after it was replaced.
    case "te-zombie":
      return s.teLossMs + 1_000 + Math.round(rnd() * 2_000);
    case "jm-zombie":
      return s.leaseMs + 1_000 + Math.round(rnd() * 2_000);
    // A server down or a host cut off for 2-5 s.
    case "nats-kill":
    case "partition":
      return 2_000 + Math.round(rnd() * 3_000);
  }
}

function shuffle<T>(xs: T[], rnd: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** One line per fault, for the report and for replay. */
export function describeFault(f: ScheduledFault): string {
  const parts = f.parts.map(
    (p) => `${p.kind}(pick=${p.pick.toFixed(3)}${p.holdMs ? `, hold=${p.holdMs}ms` : ""}${p.kind === "nats-kill" && p.streamLeader ? ", stream leader" : ""})`,
  );
  return `#${f.index} at ${(f.atMs / 1000).toFixed(1)}s: ${parts.join(" + ")}`;
}
