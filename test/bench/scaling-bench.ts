/**
 * Throughput against slots: WordCount at parallelism 1 and 2 on one TaskExecutor with two slots (the
 * exchange crosses threads over MessagePorts) and on two TaskExecutors with one slot each (it crosses
 * NATS), and an embarrassingly parallel job (cpu-map-job.ts: sequence -> CPU-heavy map -> discard,
 * forward edges) at 1 and 2 on the two-slot TaskExecutor. Figures are medians of `runs` runs of the
 * job's net runtime; the machine's other load shows in them, so they are printed with the spread.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadJob } from "../../src/sdk/load-job.js";
import { packageRoot } from "../../src/cluster/paths.js";
import type { JobGraphSpec } from "../../src/jobgraph/types.js";
import { startProcessCluster, awaitJobResult, type ProcessCluster } from "../helpers/process-cluster.js";

const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} K`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Records per second of `runs` runs of `spec` (net runtime), after one warm-up run. */
async function rates(cluster: ProcessCluster, spec: JobGraphSpec, records: number, runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec.jobId ? { ...spec, jobId: undefined } : spec);
    const r = await awaitJobResult(cluster.dispatcher, jobId, 300_000);
    if (r.state !== "FINISHED") throw new Error(`${spec.name} ended ${r.state}: ${JSON.stringify(r.failure)}`);
    if (i > 0) out.push(records / (r.netRuntimeMs / 1000));
  }
  return out;
}

const line = (label: string, xs: number[]) =>
  `  ${label.padEnd(44)} ${fmt(median(xs))} records/s (median of ${xs.length}; ${xs.map((x) => fmt(x).replace(" ", "")).join(", ")})`;

/** p=1 and p=2 of `job` on `cluster`: the medians and the ratio. */
async function pair(cluster: ProcessCluster, label: string, job: (p: number) => Promise<JobGraphSpec>, records: number, runs: number): Promise<number> {
  const one = await rates(cluster, await job(1), records, runs);
  const two = await rates(cluster, await job(2), records, runs);
  console.log(line(`${label} p=1`, one));
  console.log(line(`${label} p=2`, two));
  return median(two) / median(one);
}

/** The scaling part of `npm run bench` (`scaling`). */
export async function scalingBench(input: string, words: number, work: string, runs = 3): Promise<void> {
  const wordCount = (p: number) =>
    loadJob(join(packageRoot(), "examples/wordcount.ts"), ["--input", input, "--output", join(work, `scaling-out-${p}`)], { parallelism: p });
  const mapRecords = Number(process.env.BENCH_CPU_MAP_RECORDS ?? 2_000_000);
  const cpuMap = (p: number) =>
    loadJob(fileURLToPath(new URL("../../../test/bench/cpu-map-job.ts", import.meta.url)), ["--records", String(mapRecords), "--work", "200"], {
      parallelism: p,
    });
  console.log("");
  console.log("scaling with slots (2 cores, shared with other load: see the spread of the runs):");
  const oneTe = await startProcessCluster({ taskExecutors: 1, slots: 2 });
  let wcOne: number;
  let map: number;
  try {
    wcOne = await pair(oneTe, "WordCount, one TaskExecutor x 2 slots,", wordCount, words, runs);
    map = await pair(oneTe, "sequence -> CPU-heavy map -> discard,", cpuMap, mapRecords, runs);
  } finally {
    await oneTe.stop();
  }
  const twoTe = await startProcessCluster({ taskExecutors: 2, slots: 1 });
  let wcTwo: number;
  try {
    wcTwo = await pair(twoTe, "WordCount, two TaskExecutors x 1 slot,", wordCount, words, runs);
  } finally {
    await twoTe.stop();
  }
  const goal = (r: number, g: number) => `${r.toFixed(2)} (goal >= ${g}: ${r >= g ? "met" : "NOT met"})`;
  console.log(`  ratio WordCount p=2/p=1, one TaskExecutor:    ${goal(wcOne, 1.3)}`);
  console.log(`  ratio WordCount p=2/p=1, two TaskExecutors:   ${goal(wcTwo, 1.2)}`);
  console.log(`  ratio embarrassingly parallel p=2/p=1:        ${goal(map, 1.7)}`);
}
