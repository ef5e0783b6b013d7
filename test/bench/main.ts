/**
 * `npm run bench`: Eddy's figures against ceilings measured in the same run.
 *  1. CPU ceiling: tokenize + count in one loop.
 *  2. Transport ceiling: the same records, msgpackr batches of 1024 over NATS between two processes.
 *  3. WordCount on a process cluster (one JobManager, two TaskExecutors with two slots each) at
 *     parallelism 1, 2 and 4: records (words) per second of the job's net runtime.
 *  4. Submit-to-RUNNING latency of a two-vertex job on the warm cluster, p50 / p99.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadJob } from "../../src/sdk/load-job.js";
import { packageRoot } from "../../src/cluster/paths.js";
import { startProcessCluster, awaitJobResult } from "../helpers/process-cluster.js";
import { cpuCeiling, transportCeiling } from "./ceilings.js";
import { writeText } from "./text.js";

const WORDS = Number(process.env.BENCH_WORDS ?? 3_000_000);
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 50);
const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} K` : n.toFixed(1));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "eddy-bench-"));
  const input = join(work, "words.txt");
  await writeText(input, WORDS);
  const cluster = await startProcessCluster({ taskExecutors: 2, slots: 2 });
  try {
    const cpu = cpuCeiling(input);
    console.log(`CPU ceiling (tokenize + count, one loop):        ${fmt(cpu.recordsPerSec)} records/s`);
    const transport = await transportCeiling(cluster.natsUrl, input);
    console.log(`transport ceiling (msgpackr x1024 over NATS):     ${fmt(transport.recordsPerSec)} records/s`);

    const wc: Record<number, number> = {};
    for (const p of [1, 2, 4]) {
      const spec = await loadJob(join(packageRoot(), "examples/wordcount.ts"), ["--input", input, "--output", join(work, `out-${p}`)], { parallelism: p });
      const runs: number[] = [];
      for (let i = 0; i < 2; i++) {
        const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec.jobId ? { ...spec, jobId: undefined } : spec);
        const r = await awaitJobResult(cluster.dispatcher, jobId, 300_000);
        if (r.state !== "FINISHED") throw new Error(`WordCount p=${p} ended ${r.state}: ${JSON.stringify(r.failure)}`);
        runs.push(WORDS / (r.netRuntimeMs / 1000));
      }
      wc[p] = Math.max(...runs);
      console.log(`WordCount p=${p} (2 TaskExecutors x 2 slots):       ${fmt(wc[p]!)} records/s (best of ${runs.length})`);
    }

    const latencies: number[] = [];
    const twoVertex = {
      name: "latency",
      vertices: [
        { id: "src", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 999 } },
        { id: "sink", invokable: "sink.discard", parallelism: 1 },
      ],
      edges: [{ source: "src", target: "sink", partitioner: "forward" }],
    };
    for (let i = 0; i < LATENCY_RUNS + 5; i++) {
      const t0 = Date.now();
      const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", twoVertex);
      await awaitJobResult(cluster.dispatcher, jobId);
      const d = await cluster.dispatcher.ask<{ vertices: Array<{ subtasks: Array<{ timestamps: Record<string, number> }> }> }>("requestJob", { jobId });
      const running = Math.max(...d.vertices.flatMap((v) => v.subtasks.map((s) => s.timestamps.RUNNING ?? Infinity)));
      if (i >= 5) latencies.push(running - t0);
    }

    console.log(`submit-to-RUNNING, two-vertex job (n=${latencies.length}): p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms (target p50 < 20 ms)`);
    console.log("");
    console.log("ratios:");
    for (const p of [1, 2, 4]) console.log(`  WordCount p=${p} / transport ceiling: ${(wc[p]! / transport.recordsPerSec).toFixed(2)}   / CPU ceiling: ${(wc[p]! / cpu.recordsPerSec).toFixed(2)}`);
    console.log(`  target: WordCount p=1 >= 0.50 of the transport ceiling: ${wc[1]! / transport.recordsPerSec >= 0.5 ? "met" : "NOT met"}`);
  } finally {
    await cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
