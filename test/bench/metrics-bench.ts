/**
 * `npm run bench -- metrics`: what the metric system costs.
 *  a. WordCount p=1 with metrics on against metrics off (EDDY_METRICS=off): runs alternating between
 *     the two, each on a fresh process cluster (one TaskExecutor with two slots) after a warm-up job;
 *     medians of the job's net runtime throughput and their ratio (goal: at most 2% slower).
 *  b. The JobManager side: a vertex at parallelism 1,000 reported by 250 TaskExecutors of four
 *     subtasks each, every subtask's values changing every second (the worst case of the deltas);
 *     the store decodes, checks and ingests the real encoded reports of one second, then ticks.
 *     Printed: ms of CPU per second of reports (goal: a few ms), and one /metrics rendering.
 */
import { join } from "node:path";
import { loadJob } from "../../src/sdk/load-job.js";
import { packageRoot } from "../../src/cluster/paths.js";
import { silentLogger } from "../../src/core/logger.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { MetricIntake, MetricStore, encodeReport, type TaskEntry } from "../../src/metrics/index.js";
import { startProcessCluster } from "../helpers/process-cluster.js";
import { awaitJobResult } from "../helpers/jobs.js";
import { taskValues } from "../helpers/metric-reports.js";
import { writeText } from "./text.js";
import { cpuTicks } from "./footprint-bench.js";

type Side = "on" | "off";
/** Clock ticks per second of /proc/<pid>/stat. */
const CLK_TCK = 100;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} K`);

/** Runs both parts; `work` is a scratch directory. */
export async function metricsBench(work: string): Promise<void> {
  console.log("");
  console.log("metrics:");
  await wordCountOnOff(work);
  ingestCost();
}

async function wordCountOnOff(work: string): Promise<void> {
  const words = Number(process.env.BENCH_METRICS_WORDS ?? 4_000_000);
  const runs = Number(process.env.BENCH_METRICS_RUNS ?? 7);
  const input = join(work, "metrics-words.txt");
  await writeText(input, words);
  const rates: Record<Side, number[]> = { on: [], off: [] };
  /** CPU seconds of the TaskExecutor process (all its threads) per million words: steadier than wall time on a shared machine. */
  const cpu: Record<Side, number[]> = { on: [], off: [] };
  // A fresh cluster per run (a warm-up job, then the measured one), the sides alternating: neither a
  // cluster's own luck nor a drift of the shared machine favours one side.
  for (let i = 0; i < runs; i++) {
    for (const side of i % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) {
      const c = await startProcessCluster({ taskExecutors: 1, slots: 2, env: side === "off" ? { EDDY_METRICS: "off" } : {} });
      try {
        for (const measured of [false, true]) {
          const out = join(work, `mout-${side}-${i}-${measured}`);
          const spec = await loadJob(join(packageRoot(), "examples/wordcount.ts"), ["--input", input, "--output", out], { parallelism: 1 });
          const ticks0 = cpuTicks(c.taskExecutors[0]!.pid);
          const { jobId } = await c.dispatcher.ask<{ jobId: string }>("submitJob", spec);
          const r = await awaitJobResult(c.dispatcher, jobId, 300_000);
          if (r.state !== "FINISHED") throw new Error(`WordCount (metrics ${side}) ended ${r.state}: ${JSON.stringify(r.failure)}`);
          if (!measured) continue;
          rates[side].push(words / (r.netRuntimeMs / 1000));
          cpu[side].push((cpuTicks(c.taskExecutors[0]!.pid) - ticks0) / CLK_TCK / (words / 1e6));
        }
      } finally {
        await c.stop();
      }
    }
  }
  const on = median(rates.on);
  const off = median(rates.off);
  const slower = (1 - on / off) * 100;
  const cpuMore = (median(cpu.on) / median(cpu.off) - 1) * 100;
  console.log(
    `  WordCount p=1, ${words} words: metrics on ${fmt(on)} records/s, off ${fmt(off)} records/s (medians of ${runs}, a fresh cluster each); ` +
      `on/off ${(on / off).toFixed(3)}, ${slower.toFixed(1)}% slower (goal <= 2%: ${slower <= 2 ? "met" : "NOT met"})`,
  );
  console.log(
    `  TaskExecutor CPU per million words: on ${median(cpu.on).toFixed(3)} s, off ${median(cpu.off).toFixed(3)} s (${cpuMore >= 0 ? "+" : ""}${cpuMore.toFixed(1)}%)`,
  );
  for (const side of ["on", "off"] as const)
    console.log(`    ${side.padEnd(3)}: ${rates[side].map((r) => fmt(r)).join(", ")} records/s; ${cpu[side].map((x) => x.toFixed(3)).join(", ")} CPU s/M`);
}

/** The store's CPU per second of reports of a vertex at parallelism 1,000. */
export function ingestCost(): void {
  const parallelism = 1_000;
  const perTe = 4;
  const seconds = Number(process.env.BENCH_METRICS_SECONDS ?? 30);
  const subjects = new Subjects("bench");
  const store = new MetricStore();
  let clock = Date.now();
  const intake = new MetricIntake(store, subjects, silentLogger());
  const jobId = "f".repeat(32);
  const vertexId = "e".repeat(32);
  const entry = (subtask: number, s: number): TaskEntry => ({
    jobId,
    jobName: "bench job",
    vertexId,
    taskName: "Source: events -> map",
    subtask,
    attempt: 0,
    attemptId: subtask.toString(16).padStart(32, "0"),
    values: taskValues({
      numRecordsIn: s * 10_000 + subtask,
      numRecordsOut: s * 10_000 + subtask,
      numBytesIn: s * 300_000,
      numBytesOut: s * 300_000,
      accumulatedBusyTime: s * 600,
      accumulatedIdleTime: s * 300,
      accumulatedBackPressuredTime: s * 100,
      currentInputWatermark: clock - 2_000,
      currentOutputWatermark: clock - 2_000,
      "buffers.inPoolUsage": 0.1,
      "buffers.outPoolUsage": 0.2,
      stateSize: 1_000_000,
    }),
  });
  const cpuMs: number[] = [];
  for (let s = 0; s < seconds; s++) {
    clock += 1_000;
    // The TaskExecutors' side (not measured): one encoded report per TaskExecutor.
    const msgs: Array<[string, Uint8Array]> = [];
    for (let te = 0; te < parallelism / perTe; te++) {
      const tasks = Array.from({ length: perTe }, (_, k) => entry(te * perTe + k, s));
      const teId = `te_${te.toString(16).padStart(12, "0")}`;
      const values = { "Status.Slots.Total": perTe, "Status.Slots.Free": 0, "Status.Memory.RSS": 8e7, "Status.CPU.Load": 0.8, "Status.EventLoop.LagMs": 2 };
      msgs.push([subjects.metricsTaskExecutor(teId), encodeReport({ teId, t: clock, full: s % 10 === 0, values, tasks })]);
    }
    const t0 = process.cpuUsage();
    for (const [subject, data] of msgs) intake.handle(subject, data);
    store.tick();
    const d = process.cpuUsage(t0);
    cpuMs.push((d.user + d.system) / 1000);
  }
  if (intake.stats.dropped > 0) throw new Error(`${intake.stats.dropped} bench reports were dropped`);
  const t0 = process.cpuUsage();
  const text = store.prometheus();
  const d = process.cpuUsage(t0);
  const agg = store.vertex(jobId, vertexId);
  console.log(
    `  store ingest, one vertex at p=${parallelism} (${parallelism / perTe} TaskExecutor reports/s, every subtask changed): ` +
      `${median(cpuMs.slice(5)).toFixed(1)} ms CPU per second (median of ${seconds - 5} s after 5 s warm-up; goal: a few ms); ` +
      `/metrics ${((d.user + d.system) / 1000).toFixed(1)} ms for ${(text.length / 1e6).toFixed(1)} MB; vertex ${fmt(agg.numRecordsOutPerSecond ?? 0)} records/s`,
  );
}
