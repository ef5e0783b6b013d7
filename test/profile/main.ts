/**
 * `npm run profile -- <job...> [--words N] [--events N] [--out DIR] [--interval US] [--task-executors N] [--slots S]`: where the CPU time
 * of the data path goes, per stage (stages.ts) and per record.
 *  - `wordcount`: examples/wordcount.ts on a fresh process cluster (`--task-executors` x `--slots`, 2 x 2 as
 *    the bench) at parallelism 1, 2 and 4 (those the cluster has slots for), every TaskExecutor process under `--cpu-prof` (an option of
 *    node: NODE_OPTIONS refuses it); slot threads inherit the main thread's execArgv and write a profile each;
 *  - `windowed-events`: examples/windowed-events.ts through the runtime in one thread (the stream bench's
 *    setup) in a child process under `--cpu-prof`;
 *  - `cpu-map`: the scaling bench's embarrassingly parallel job (sequence -> CPU-heavy map -> discard,
 *    `--words` records) at parallelism 1 and 2 on a cluster as for WordCount.
 * `--alloc` also prints what one warm windowed-events run allocates, and where.
 * A cluster job runs twice on each cluster, and only the samples between the second run's submission and
 * its result count (all profiles share the monotonic clock): the first run warms slot threads and JIT. Prints a markdown table (ns per record and share per stage, summed over every thread) and
 * writes a flame graph SVG per job into the output directory.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot } from "../../src/cluster/paths.js";
import { loadJob } from "../../src/sdk/load-job.js";
import { startProcessCluster, awaitJobResult, type ProcessCluster } from "../helpers/process-cluster.js";
import type { JobGraphSpec } from "../../src/jobgraph/types.js";
import { cpuMapJob, plainMap } from "../bench/scaling-bench.js";
import { writeText } from "../bench/text.js";
import { cpuCeiling } from "../bench/ceilings.js";
import { windowedEventsBareLoop, writeWindowedEventsFiles } from "../helpers/windowed-events-reference.js";
import { addStages, monotonicUs, newTree, readProfile, reduceProfile, stageRows, type TreeNode, type Window } from "./cpuprofile.js";
import { flameSvg } from "./flame-svg.js";
import type { Stage } from "./stages.js";

const JOBS = ["wordcount", "windowed-events", "cpu-map"] as const;

interface Options {
  jobs: Array<(typeof JOBS)[number]>;
  words: number;
  events: number;
  out: string;
  intervalUs: number;
  /** TaskExecutors of the cluster (2; 1 puts every exchange between threads of one process). */
  taskExecutors: number;
  /** Slots per TaskExecutor (2; with 1 and two TaskExecutors every exchange crosses NATS). */
  slots: number;
  /** windowed-events: also measure what one warm run allocates (a second child, under the sampling heap profiler). */
  alloc: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { jobs: [], words: 3_000_000, events: 500_000, out: "", intervalUs: 500, taskExecutors: 2, slots: 2, alloc: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = () => {
      const v = Number(argv[++i]);
      if (!(v > 0)) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === "--words") o.words = num();
    else if (a === "--events") o.events = num();
    else if (a === "--interval") o.intervalUs = num();
    else if (a === "--slots") o.slots = num();
    else if (a === "--task-executors") o.taskExecutors = num();
    else if (a === "--out") o.out = argv[++i] ?? "";
    else if (a === "--alloc") o.alloc = true;
    else if (a === "all") o.jobs.push(...JOBS);
    else if ((JOBS as readonly string[]).includes(a)) o.jobs.push(a as (typeof JOBS)[number]);
    else
      throw new Error(
        `unknown argument "${a}"; usage: npm run profile -- <${JOBS.join("|")}|all>... [--words N] [--events N] [--out DIR] [--interval US] [--task-executors N] [--slots S] [--alloc]`,
      );
  }
  if (o.jobs.length === 0) o.jobs.push(...JOBS);
  if (!o.out) o.out = mkdtempSync(join(tmpdir(), "eddy-profile-"));
  mkdirSync(o.out, { recursive: true });
  return o;
}

/** One profiled run: stage times summed over its threads, records, wall time, merged call tree. */
interface ProfiledRun {
  name: string;
  records: number;
  wallMs: number;
  threads: number;
  byStage: Map<Stage, number>;
  busyUs: number;
  idleUs: number;
  tree: TreeNode;
  byFrame: Map<string, { us: number; stage: Stage }>;
  /** CPU ns per record of the same work as one plain loop in this process (the bench's ceilings). */
  loopNs: number;
}

/** CPU ns per record of `fn`, which handles `records` records, in this thread. */
function loopCost(records: number, fn: () => unknown): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / records;
}

/** Reduces every .cpuprofile in `dir` whose process id is one of `pids` (all when undefined). */
function reduceDir(dir: string, w: Window, name: string, records: number, wallMs: number, loopNs: number, pids?: number[]): ProfiledRun {
  const run: ProfiledRun = { name, records, wallMs, threads: 0, byStage: new Map(), busyUs: 0, idleUs: 0, tree: newTree(name), byFrame: new Map(), loopNs };
  for (const f of readdirSync(dir).filter((x) => x.endsWith(".cpuprofile"))) {
    // CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile
    const [, , , pid, tid] = f.split(".");
    if (pids && !pids.includes(Number(pid))) continue;
    const r = reduceProfile(readProfile(join(dir, f)), w, `pid ${pid} ${tid === "0" ? "main thread" : `thread ${tid}`}`);
    if (r.busyUs === 0) continue;
    run.threads++;
    addStages(run.byStage, r.byStage);
    run.busyUs += r.busyUs;
    run.idleUs += r.idleUs;
    run.tree.children.set(r.tree.name, r.tree);
    for (const [k, v] of r.byFrame) {
      const e = run.byFrame.get(k);
      if (e) e.us += v.us;
      else run.byFrame.set(k, { ...v });
    }
    run.tree.totalUs += r.tree.totalUs;
  }
  if (run.threads === 0) throw new Error(`no profile in ${dir} has samples in the job's window`);
  return run;
}

/** A job on a fresh cluster (`--task-executors` x `--slots`), profiled: what it is, its records and their plain-loop cost. */
interface ClusterJob {
  name: string;
  spec(cluster: ProcessCluster): Promise<JobGraphSpec>;
  records: number;
  loopNs(): number;
}

const wordCountJob = (o: Options, input: string, p: number): ClusterJob => ({
  name: `WordCount p=${p}`,
  spec: () => loadJob(join(packageRoot(), "examples/wordcount.ts"), ["--input", input, "--output", join(o.out, `wordcount-out-p${p}`)], { parallelism: p }),
  records: o.words,
  loopNs: () => loopCost(o.words, () => cpuCeiling(input)),
});

const cpuMap = (o: Options, p: number): ClusterJob => ({
  name: `cpu-map p=${p}`,
  spec: (cluster) => cpuMapJob(cluster, o.words, p),
  records: o.words,
  loopNs: () => loopCost(o.words, () => plainMap(o.words)),
});

async function profileOnCluster(o: Options, job: ClusterJob): Promise<ProfiledRun> {
  const dir = join(o.out, job.name.replace(/[^A-Za-z0-9]+/g, "-").toLowerCase());
  mkdirSync(dir, { recursive: true });
  const cluster = await startProcessCluster({
    taskExecutors: o.taskExecutors,
    slots: o.slots,
    taskExecutorNodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${o.intervalUs}`],
    // Stages are told apart by module file: the processes and slot threads run the modules, not their bundles.
    env: { EDDY_SLOT_WORKER: "modules", EDDY_CLI: "modules" },
  });
  let w: Window = { fromUs: 0, toUs: 0 };
  let wallMs = 0;
  const pids = cluster.taskExecutors.map((t) => t.pid);
  try {
    const spec = await job.spec(cluster);
    // The first run warms the cluster (slot threads, module loading, JIT) as in the bench; the second is measured.
    for (let run = 0; run < 2; run++) {
      const fromUs = monotonicUs();
      const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec.jobId ? { ...spec, jobId: undefined } : spec);
      const r = await awaitJobResult(cluster.dispatcher, jobId, 300_000);
      w = { fromUs, toUs: monotonicUs() };
      if (r.state !== "FINISHED") throw new Error(`${job.name} ended ${r.state}: ${JSON.stringify(r.failure)}`);
      wallMs = r.netRuntimeMs;
    }
  } finally {
    // A graceful stop: the slot threads and processes exit normally, which is when V8 writes their profiles.
    await cluster.stop();
  }
  return reduceDir(dir, w, job.name, job.records, wallMs, job.loopNs(), pids);
}

function profileWindowedEvents(o: Options): ProfiledRun {
  const dir = join(o.out, "windowed-events");
  mkdirSync(dir, { recursive: true });
  const child = fileURLToPath(new URL("./windowed-events-run.js", import.meta.url));
  const stdout = execFileSync(
    process.execPath,
    ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${o.intervalUs}`, child, String(o.events), join(o.out, "windowed-events-out")],
    { encoding: "utf8", timeout: 600_000 },
  );
  const w = JSON.parse(stdout.trim().split("\n").pop()!) as Window & { events: number };
  const loopNs = loopCost(w.events, () => writeWindowedEventsFiles(join(o.out, "windowed-events-loop-out"), windowedEventsBareLoop(w.events, 50)));
  if (o.alloc) printAllocation(o, child);
  return reduceDir(dir, w, "windowed-events p=1", w.events, (w.toUs - w.fromUs) / 1000, loopNs);
}

/** What one warm run of windowed-events allocates, measured in a child without the CPU profiler. */
function printAllocation(o: Options, child: string): void {
  const stdout = execFileSync(process.execPath, [child, String(o.events), join(o.out, "windowed-events-alloc-out"), "alloc"], {
    encoding: "utf8",
    timeout: 600_000,
  });
  const r = JSON.parse(stdout.trim().split("\n").pop()!) as { events: number; allocBytes: number; allocTop: Array<[string, number]> };
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  console.log(
    `windowed-events: one warm run allocated ${mb(r.allocBytes)} (${(r.allocBytes / r.events).toFixed(0)} bytes per event); the sites that allocated most:`,
  );
  for (const [site, bytes] of r.allocTop) console.log(`  ${mb(bytes).padStart(9)}  ${site}`);
  console.log("");
}

/** The markdown table: per stage, CPU ns per record and share of busy CPU time, one column per run. */
export function stageTable(runs: ProfiledRun[]): string {
  const head = `| stage | ${runs.map((r) => r.name).join(" | ")} |`;
  const sep = `|---|${runs.map(() => "---:").join("|")}|`;
  const cell = (r: ProfiledRun, us: number) => (us === 0 ? "·" : `${((us * 1000) / r.records).toFixed(0)} ns (${((100 * us) / r.busyUs).toFixed(1)}%)`);
  const rows = stageRows(new Map()).map(([s]) => `| ${s} | ${runs.map((r) => cell(r, r.byStage.get(s) ?? 0)).join(" | ")} |`);
  const total = `| **busy CPU, all threads** | ${runs.map((r) => `**${((r.busyUs * 1000) / r.records).toFixed(0)} ns**`).join(" | ")} |`;
  const wall = `| wall time of the job (records/s) | ${runs.map((r) => `${r.wallMs.toFixed(0)} ms (${(r.records / (r.wallMs / 1000) / 1e6).toFixed(2)} M/s)`).join(" | ")} |`;
  const threads = `| threads with samples, idle share | ${runs.map((r) => `${r.threads}, ${((100 * r.idleUs) / (r.idleUs + r.busyUs)).toFixed(0)}% idle`).join(" | ")} |`;
  const loop = `| the same work as one plain loop (CPU ceiling) | ${runs.map((r) => `${r.loopNs.toFixed(0)} ns`).join(" | ")} |`;
  return [head, sep, ...rows, total, loop, wall, threads].join("\n");
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const runs: ProfiledRun[] = [];
  if (o.jobs.includes("wordcount")) {
    const input = join(o.out, "words.txt");
    await writeText(input, o.words);
    try {
      for (const p of [1, 2, 4].filter((p) => p <= o.taskExecutors * o.slots)) runs.push(await profileOnCluster(o, wordCountJob(o, input, p)));
    } finally {
      rmSync(input, { force: true });
    }
  }
  if (o.jobs.includes("windowed-events")) runs.push(profileWindowedEvents(o));
  if (o.jobs.includes("cpu-map")) for (const p of [1, 2]) runs.push(await profileOnCluster(o, cpuMap(o, p)));
  for (const r of runs) {
    const svg = join(o.out, `${r.name.replace(/[^A-Za-z0-9]+/g, "-").toLowerCase()}.svg`);
    writeFileSync(svg, flameSvg(r.tree, `${r.name}: CPU of every TaskExecutor thread during the job (${(r.busyUs / 1000).toFixed(0)} ms busy)`));
    console.log(`flame graph: ${svg}`);
    const top = [...r.byFrame].sort((a, b) => b[1].us - a[1].us).slice(0, 30);
    const lines = top.map(
      ([k, v]) =>
        `${((v.us * 1000) / r.records).toFixed(1).padStart(8)} ns  ${((100 * v.us) / r.busyUs).toFixed(1).padStart(5)}%  ${v.stage.padEnd(42)} ${k.split("\u0000")[1]}`,
    );
    writeFileSync(svg.replace(/\.svg$/, "-top-frames.txt"), `${r.name}: self time per record of the 30 hottest frames\n${lines.join("\n")}\n`);
  }
  console.log(`profiles: ${o.out}`);
  console.log("");
  console.log("CPU per record (all threads; ns of busy CPU per input record, share of busy CPU):");
  console.log(stageTable(runs));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
