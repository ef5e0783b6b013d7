/**
 * Throughput against slots: WordCount at parallelism 1 and 2 on one TaskExecutor with two slots (the
 * exchange crosses threads over MessagePorts) and on two TaskExecutors with one slot each (it crosses
 * NATS), and an embarrassingly parallel job (cpu-map-job.ts: sequence -> CPU-heavy map -> discard,
 * forward edges) at 1 and 2 on the two-slot TaskExecutor. WordCount's work with a forward and with a
 * rebalance edge in place of the keyBy (wordcount-edge-job.ts) tells the runtime's own scaling, the
 * records' crossing between the threads and the key routing apart. Figures are medians of `runs` runs of the
 * job's net runtime; the machine's other load shows in them, so they are printed with the spread, with
 * the TaskExecutors' CPU per record (less sensitive to other load than wall time) and with what two
 * plain threads get from the machine at the same moment.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { buildJob, loadJob } from "../../src/sdk/load-job.js";
import { BundleStore } from "../../src/blob/index.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { packageRoot } from "../../src/cluster/paths.js";
import type { JobGraphSpec } from "../../src/jobgraph/types.js";
import { startProcessCluster, awaitJobResult, type ProcessCluster } from "../helpers/process-cluster.js";

const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} K`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** CPU ms (user + system, every thread) a process used so far, from /proc (Linux). */
export function processCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/** CPU ms (user + system) the main thread of a process used so far, from /proc (Linux; 10 ms steps). */
export function mainThreadCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuMs(path: string): number {
  const f = readFileSync(path, "utf8").split(") ")[1]!.split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

/** Runs of one job: records per second (net runtime) and the TaskExecutors' CPU ns per record. */
interface Runs {
  rates: number[];
  cpuNs: number[];
}

/** One run of `spec`: records per second (net runtime) and the TaskExecutors' CPU ns per record. */
async function measureRun(cluster: ProcessCluster, spec: JobGraphSpec, records: number): Promise<{ rate: number; cpuNs: number }> {
  const pids = cluster.taskExecutors.map((t) => t.pid);
  const c0 = pids.map(processCpuMs);
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec.jobId ? { ...spec, jobId: undefined } : spec);
  const r = await awaitJobResult(cluster.dispatcher, jobId, 300_000);
  if (r.state !== "FINISHED") throw new Error(`${spec.name} ended ${r.state}: ${JSON.stringify(r.failure)}`);
  const cpuMs = pids.reduce((sum, pid, k) => sum + processCpuMs(pid) - c0[k]!, 0);
  return { rate: records / (r.netRuntimeMs / 1000), cpuNs: (cpuMs * 1e6) / records };
}

const line = (label: string, r: Runs) =>
  `  ${label.padEnd(44)} ${fmt(median(r.rates))} records/s (median of ${r.rates.length}; ${r.rates.map((x) => fmt(x).replace(" ", "")).join(", ")}), ` +
  `TaskExecutor CPU ${median(r.cpuNs).toFixed(0)} ns/record`;

/**
 * p=1 and p=2 of `job` on `cluster`, one warm-up run each, then `runs` runs of each, alternated so
 * that a change of the machine's load between them falls on both: the medians and their ratio.
 */
async function pair(cluster: ProcessCluster, label: string, job: (p: number) => Promise<JobGraphSpec>, records: number, runs: number): Promise<number> {
  const specs = [await job(1), await job(2)] as const;
  const by: [Runs, Runs] = [
    { rates: [], cpuNs: [] },
    { rates: [], cpuNs: [] },
  ];
  for (const spec of specs) await measureRun(cluster, spec, records);
  for (let i = 0; i < runs; i++) {
    for (let p = 0; p < 2; p++) {
      const r = await measureRun(cluster, specs[p]!, records);
      by[p]!.rates.push(r.rate);
      by[p]!.cpuNs.push(r.cpuNs);
    }
  }
  console.log(line(`${label} p=1`, by[0]));
  console.log(line(`${label} p=2`, by[1]));
  return median(by[1].rates) / median(by[0].rates);
}

/** The CPU-heavy map of cpu-map-job.ts over the integers 0..n-1 in one plain loop. */
export function plainMap(n: number): number {
  let acc = 0;
  for (let x = 0; x < n; x++) {
    let h = x | 0;
    for (let i = 0; i < 200; i++) h = (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + i) | 0;
    acc ^= h;
  }
  return acc;
}

/** The stream-API job cpu-map-job.ts over `records` integers at parallelism `p`, its bundle uploaded as `eddy run` does. */
export async function cpuMapJob(cluster: ProcessCluster, records: number, p: number): Promise<JobGraphSpec> {
  const built = await buildJob(fileURLToPath(new URL("../../../test/bench/cpu-map-job.ts", import.meta.url)), ["--records", String(records), "--work", "200"], {
    parallelism: p,
  });
  const store = await BundleStore.open(cluster.nc, new Subjects(cluster.prefix));
  await store.put(built.bundle.bytes);
  return built.spec;
}

/** {@link plainMap} over `n` integers in `threads` plain worker threads at once: records/s and CPU ns per record. */
async function plainThreads(threads: number, n: number): Promise<{ rate: number; cpuNs: number }> {
  const code = `const { parentPort, workerData: n } = require("node:worker_threads");
    ${plainMap.toString()}
    parentPort.postMessage(plainMap(n));`;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise((resolve, reject) => {
          const w = new Worker(code, { eval: true, workerData: Math.floor(n / threads) });
          w.once("message", resolve);
          w.once("error", reject);
        }),
    ),
  );
  const c = process.cpuUsage(c0);
  return { rate: n / ((performance.now() - t0) / 1000), cpuNs: ((c.user + c.system) * 1000) / n };
}

/**
 * WordCount by hand in `threads` plain worker threads (plain-wordcount-thread.ts: each tokenizes and
 * counts its share of `path`'s lines, nothing crosses threads): words per second from "go" to the
 * last thread's answer, file reading left out.
 */
async function plainWordCount(threads: number, path: string): Promise<number> {
  const file = fileURLToPath(new URL("./plain-wordcount-thread.js", import.meta.url));
  const workers = Array.from({ length: threads }, (_, part) => new Worker(file, { workerData: { path, part, parts: threads } }));
  const reply = (w: Worker) =>
    new Promise<unknown>((resolve, reject) => {
      w.once("message", resolve);
      w.once("error", reject);
    });
  try {
    await Promise.all(workers.map(reply));
    const t0 = performance.now();
    const words = await Promise.all(
      workers.map((w) => {
        const r = reply(w);
        w.postMessage("go");
        return r;
      }),
    );
    const total = (words as number[]).reduce((a, b) => a + b, 0);
    return total / ((performance.now() - t0) / 1000);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * What the machine gives WordCount's work in two plain threads against one (median of `runs`
 * alternated pairs, and the pairs): the ceiling of the p=2/p=1 ratios, which an engine that must also
 * exchange half the records between the threads cannot pass.
 */
async function plainWordCountRatio(path: string, runs: number): Promise<{ ratio: number; ratios: number[]; oneThread: number }> {
  const ratios: number[] = [];
  const ones: number[] = [];
  await plainWordCount(1, path);
  for (let i = 0; i < runs; i++) {
    const one = await plainWordCount(1, path);
    const two = await plainWordCount(2, path);
    ones.push(one);
    ratios.push(two / one);
  }
  return { ratio: median(ratios), ratios, oneThread: median(ones) };
}

/** The scaling part of `npm run bench` (`scaling`). */
export async function scalingBench(input: string, words: number, work: string, runs = 3): Promise<void> {
  const wordCount = (p: number) =>
    loadJob(join(packageRoot(), "examples/wordcount.ts"), ["--input", input, "--output", join(work, `scaling-out-${p}`)], { parallelism: p });
  const mapRecords = Number(process.env.BENCH_CPU_MAP_RECORDS ?? 2_000_000);
  const cpuMap = (cluster: ProcessCluster) => (p: number) => cpuMapJob(cluster, mapRecords, p);
  console.log("");
  console.log("scaling with slots (2 cores, shared with other load: see the spread of the runs):");
  const loops: number[] = [];
  const cpu1: number[] = [];
  const cpu2: number[] = [];
  for (let i = 0; i < runs; i++) {
    const two = await plainThreads(2, mapRecords);
    const one = await plainThreads(1, mapRecords);
    loops.push(two.rate / one.rate);
    cpu1.push(one.cpuNs);
    cpu2.push(two.cpuNs);
  }
  const machine = median(loops);
  console.log(
    `  the machine now: the same CPU-heavy map in plain threads, 2 threads / 1 thread: ${machine.toFixed(2)} (median of ${runs}; ${loops.map((x) => x.toFixed(2)).join(", ")}), ` +
      `CPU ${median(cpu1).toFixed(0)} ns/record in one thread, ${median(cpu2).toFixed(0)} in two`,
  );
  const plainWc = await plainWordCountRatio(input, Math.max(runs, 5));
  console.log(
    `  the machine now: WordCount by hand in plain threads (each its share of the lines, nothing exchanged), 2 threads / 1 thread: ${plainWc.ratio.toFixed(2)} ` +
      `(median of ${plainWc.ratios.length}; ${plainWc.ratios.map((x) => x.toFixed(2)).join(", ")}), one thread ${fmt(plainWc.oneThread)} words/s`,
  );
  const edgeJob = fileURLToPath(new URL("../../../test/bench/wordcount-edge-job.ts", import.meta.url));
  const wordCountEdge = (edge: "forward" | "rebalance" | "hash") => (p: number) =>
    loadJob(edgeJob, ["--input", input, "--output", join(work, `scaling-out-${edge}-${p}`), "--edge", edge], { parallelism: p });
  const oneTe = await startProcessCluster({ taskExecutors: 1, slots: 2 });
  let wcOne: number;
  let forward: number;
  let rebalance: number;
  let hash: number;
  let map: number;
  try {
    wcOne = await pair(oneTe, "WordCount, one TaskExecutor x 2 slots,", wordCount, words, runs);
    forward = await pair(oneTe, "its work, forward edge (no exchange),", wordCountEdge("forward"), words, runs);
    rebalance = await pair(oneTe, "its work, rebalance edge (no key hash),", wordCountEdge("rebalance"), words, runs);
    hash = await pair(oneTe, "WordCount without the sum's combiner,", wordCountEdge("hash"), words, runs);
    map = await pair(oneTe, "sequence -> CPU-heavy map -> discard,", cpuMap(oneTe), mapRecords, runs);
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
  const ofPlain = (r: number) => `; against the plain threads' ${plainWc.ratio.toFixed(2)}: ${(r / plainWc.ratio).toFixed(2)}`;
  console.log(`  ratio WordCount p=2/p=1, one TaskExecutor:    ${goal(wcOne, 1.3)}${ofPlain(wcOne)}`);
  console.log(`  ratio WordCount p=2/p=1, two TaskExecutors:   ${goal(wcTwo, 1.2)}${ofPlain(wcTwo)}`);
  console.log(
    `  where the one-TaskExecutor ratio goes (no goals): WordCount's work with a forward edge ${forward.toFixed(2)} (nothing crosses a thread), ` +
      `a rebalance edge ${rebalance.toFixed(2)} (half the records cross, no key hash), keyBy without the combiner ${hash.toFixed(2)} (every record hashed, half cross), ` +
      `keyBy with it ${wcOne.toFixed(2)}`,
  );
  console.log(
    `  ratio embarrassingly parallel p=2/p=1:        ${goal(map, 1.7)}; against the plain threads' ${machine.toFixed(2)}: ${(map / machine).toFixed(2)}`,
  );
}
