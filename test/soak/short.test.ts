/**
 * The short soak (part of `npm test`; `npm run soak:short` runs it alone): one minute of the seeded chaos soak (test/soak) with at least
 * eight faults of every kind on a three-server NATS cluster, two JobManagers and four TaskExecutors,
 * and no violation: each event committed exactly once by both jobs, both FINISHED, no recovery
 * stalled, nothing of the jobs left behind. EDDY_SOAK_SEED replays another seed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runSoak } from "./run.js";
import { FAULT_KINDS } from "./schedule.js";
import { faultLabel } from "./report.js";

/** The fixed seed of the suite's soak. */
const SEED = Number(process.env.EDDY_SOAK_SEED ?? 20261202);

test("a one-minute soak with eight faults of every kind commits each event exactly once and leaks nothing", { timeout: 360_000 }, async () => {
  const { summary, report } = await runSoak({ minutes: 1, seed: SEED, hosts: 3, faults: 8, endTimeoutMs: 90_000 });
  // Kinds injected: a part that found no target (skipped) does not count.
  const kinds = new Set(
    summary.outcomes.flatMap((o) => [
      ...(o.skipped.length ? [] : [faultLabel(o.fault)]),
      ...o.fault.parts.map((p) => p.kind).filter((k) => !o.skipped.includes(k)),
    ]),
  );
  const expected = [...FAULT_KINDS.filter((k) => summary.isolated || k !== "partition"), "double"];
  assert.deepEqual(
    expected.filter((k) => !kinds.has(k)),
    [],
    `every fault kind injected\n${report}`,
  );
  assert.ok(summary.outcomes.length >= 8, `at least eight faults\n${report}`);
  assert.deepEqual(summary.violations, [], report);
});
