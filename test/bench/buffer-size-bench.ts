/**
 * What the records-per-buffer bound costs on the links that encode: short strings pushed through the
 * NATS link and the cross-thread link (network-bench.ts: two worker threads with Eddy's partitions,
 * credits and framing) with `bufferRecords` 1024 (the old default) and 4096 (the default), alternating,
 * median of `runs`. Figures: records/s and this process's CPU (both threads) per record, which other
 * load on the machine disturbs less than the rate.
 * Then WordCount (3 M words) on the bench's process cluster (two TaskExecutors x two slots) at p=2 and
 * p=4 with the job's `bufferRecords` at 1024 and 4096, alternating: rate and the CPU per word of the
 * TaskExecutors and the nats-server (it relays every frame and credit).
 * Alone: `node dist/test/bench/buffer-size-bench.js [RECORDS] [RUNS]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { benchNetwork } from "./network-bench.js";
import { startTestNats } from "../helpers/nats-server.js";
import { startProcessCluster, awaitJobResult } from "../helpers/process-cluster.js";
import { loadJob } from "../../src/sdk/load-job.js";
import { packageRoot } from "../../src/cluster/paths.js";
import { writeText } from "./text.js";
import { processCpuMs } from "./scaling-bench.js";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function bufferSizeBench(records: number, runs: number): Promise<void> {
  const nats = await startTestNats();
  try {
    console.log("");
    console.log(`records per buffer, ${records} short strings per run, medians of ${runs} alternating runs (rate; CPU of both threads per record):`);
    for (const link of ["remote", "thread"] as const) {
      const by = new Map<number, { rate: number[]; cpu: number[]; buffers: number }>();
      for (let r = 0; r < runs; r++) {
        for (const bufferRecords of [1024, 4096]) {
          const c0 = process.cpuUsage();
          const res = await benchNetwork(nats.url, { records, bufferRecords, link });
          const c = process.cpuUsage(c0);
          const e = by.get(bufferRecords) ?? { rate: [], cpu: [], buffers: 0 };
          e.rate.push(res.recordsPerSec);
          e.cpu.push(((c.user + c.system) * 1000) / records);
          e.buffers = res.buffersSent;
          by.set(bufferRecords, e);
        }
      }
      for (const [n, e] of by)
        console.log(
          `  ${link === "remote" ? "NATS link        " : "cross-thread link"} bufferRecords ${String(n).padEnd(5)} ${(median(e.rate) / 1e6).toFixed(2)} M records/s, ${median(e.cpu).toFixed(0)} ns CPU/record, ${e.buffers} buffers (CPU/record per run: ${e.cpu.map((x) => x.toFixed(0)).join(", ")})`,
        );
    }
  } finally {
    await nats.stop();
  }
}

/** WordCount at p=2 and p=4 on two TaskExecutors x two slots, `bufferRecords` 1024 against 4096, alternating. */
export async function wordCountBufferSizes(words: number, runs: number): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "eddy-buffer-bench-"));
  const input = join(work, "words.txt");
  await writeText(input, words);
  // This NATS's process is the bench's own, so its CPU can be counted.
  const nats = await startTestNats();
  const cluster = await startProcessCluster({ taskExecutors: 2, slots: 2, natsUrl: nats.url });
  try {
    console.log("");
    console.log(
      `WordCount, ${words} words, two TaskExecutors x two slots, alternating runs after a warm-up (rate; CPU per word of the TaskExecutors and nats-server):`,
    );
    const pids = [...cluster.taskExecutors.map((t) => t.pid), nats.server.pid];
    for (const p of [2, 4]) {
      const spec = await loadJob(join(packageRoot(), "examples/wordcount.ts"), ["--input", input, "--output", join(work, `out-${p}`)], { parallelism: p });
      const by = new Map<number, { rate: number[]; cpu: number[] }>();
      for (let r = 0; r <= runs; r++) {
        for (const bufferRecords of [1024, 4096]) {
          const c0 = pids.map(processCpuMs);
          const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", {
            ...spec,
            jobId: undefined,
            config: { ...spec.config, bufferRecords },
          });
          const res = await awaitJobResult(cluster.dispatcher, jobId, 300_000);
          if (res.state !== "FINISHED") throw new Error(`WordCount p=${p} ended ${res.state}: ${JSON.stringify(res.failure)}`);
          const cpuMs = pids.reduce((sum, pid, k) => sum + processCpuMs(pid) - c0[k]!, 0);
          if (r === 0) continue;
          const e = by.get(bufferRecords) ?? { rate: [], cpu: [] };
          e.rate.push(words / (res.netRuntimeMs / 1000));
          e.cpu.push((cpuMs * 1e6) / words);
          by.set(bufferRecords, e);
        }
      }
      for (const [n, e] of by)
        console.log(
          `  p=${p} bufferRecords ${String(n).padEnd(5)} ${(median(e.rate) / 1e6).toFixed(2)} M words/s, ${median(e.cpu).toFixed(0)} ns CPU/word (per run: ${e.rate.map((x) => (x / 1e6).toFixed(2)).join(", ")} M/s; ${e.cpu.map((x) => x.toFixed(0)).join(", ")} ns)`,
        );
    }
  } finally {
    await cluster.stop();
    await nats.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const runs = Number(process.argv[3] ?? 5);
  await bufferSizeBench(Number(process.argv[2] ?? 2_000_000), runs);
  await wordCountBufferSizes(Number(process.env.BENCH_WORDS ?? 3_000_000), runs);
  process.exit(0);
}
