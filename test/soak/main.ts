/**
 * `npm run soak -- [--minutes M] [--seed S] [--hosts H] [--faults N] [--rate R] [--kinds K,K] [--no-namespaces]`: one seeded chaos soak
 * of a whole Eddy cluster (see docs/reliability.md). Prints the report; exits 1 on any violation
 * (the report then ends with the seed and the fault log for a replay), 2 on bad arguments or a
 * harness failure.
 */
import { abortSoaks, runSoak } from "./run.js";
import { FAULT_KINDS, type FaultKind } from "./schedule.js";

const USAGE = `npm run soak -- [--minutes M] [--seed S] [--hosts H] [--faults N] [--rate EVENTS_PER_S] [--kinds ${[...FAULT_KINDS, "double"].join(",")}] [--no-namespaces]`;

function parse(argv: string[]): {
  minutes: number;
  seed: number;
  hosts: number;
  faults?: number;
  rate?: number;
  kinds?: Array<FaultKind | "double">;
  namespaces: boolean;
} {
  const flags = new Map<string, string>();
  const namespaces = !argv.includes("--no-namespaces");
  argv = argv.filter((a) => a !== "--no-namespaces");
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!;
    const v = argv[i + 1];
    if (!["--minutes", "--seed", "--hosts", "--faults", "--rate", "--kinds"].includes(k) || v === undefined)
      throw new Error(`unknown or incomplete argument ${k}\nusage: ${USAGE}`);
    flags.set(k, v);
  }
  const num = (k: string, dflt: number | undefined, ok: (n: number) => boolean) => {
    const v = flags.get(k);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!ok(n)) throw new Error(`${k} ${v} is not valid\nusage: ${USAGE}`);
    return n;
  };
  const faults = num("--faults", undefined, (n) => Number.isInteger(n) && n >= 1);
  const rate = num("--rate", undefined, (n) => Number.isInteger(n) && n >= 1);
  const known: ReadonlyArray<string> = [...FAULT_KINDS, "double"];
  const kinds = flags.get("--kinds")?.split(",") as Array<FaultKind | "double"> | undefined;
  const unknown = kinds?.filter((k) => !known.includes(k));
  if (unknown?.length) throw new Error(`--kinds: unknown kind(s) ${unknown.join(", ")}\nusage: ${USAGE}`);
  return {
    minutes: num("--minutes", 2, (n) => n > 0 && n <= 24 * 60)!,
    seed: num("--seed", Math.floor(Math.random() * 2 ** 31), (n) => Number.isInteger(n) && n >= 0)!,
    hosts: num("--hosts", 3, (n) => Number.isInteger(n) && n >= 1 && n <= 16)!,
    namespaces,
    ...(faults !== undefined ? { faults } : {}),
    ...(rate !== undefined ? { rate } : {}),
    ...(kinds !== undefined ? { kinds } : {}),
  };
}

let opts: ReturnType<typeof parse>;
try {
  opts = parse(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    process.stderr.write(`soak interrupted (${sig}), seed ${opts.seed}: stopping the cluster\n`);
    void abortSoaks().finally(() => process.exit(130));
  });
}
process.stdout.write(`soak: seed ${opts.seed}, ${opts.minutes} min, ${opts.hosts} hosts\n`);
try {
  const { summary, report } = await runSoak({ ...opts, keepLogs: true, log: (l) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${l}\n`) });
  process.stdout.write(`${report}\n`);
  process.exit(summary.violations.length ? 1 : 0);
} catch (err) {
  process.stderr.write(`soak failed (seed ${opts.seed}): ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
}
