/**
 * What the records-per-buffer bound costs on the links that encode: short strings pushed through the
 * NATS link and the cross-thread link (network-bench.ts: two worker threads with Eddy's partitions,
 * credits and framing) with `bufferRecords` 1024 (the old default) and 4096 (the default), alternating,
 * median of `runs`. Figures: records/s and this process's CPU (both threads) per record, which other
 * load on the machine disturbs less than the rate.
 * Alone: `node dist/test/bench/buffer-size-bench.js [RECORDS] [RUNS]`.
 */
import { pathToFileURL } from "node:url";
import { benchNetwork } from "./network-bench.js";
import { startTestNats } from "../helpers/nats-server.js";

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

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await bufferSizeBench(Number(process.argv[2] ?? 2_000_000), Number(process.argv[3] ?? 5));
}
