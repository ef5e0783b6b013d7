/**
 * The stream API's cost: examples/windowed-events.ts (event-time windows with late clicks) run through
 * the whole runtime in one thread (test/helpers/local-runtime.ts: chaining, network stack, keyed state,
 * timers, watermarks, side output, the sorted result files) against the same logic as one plain loop
 * (test/helpers/windowed-events-reference.ts) that writes the same two files (compared byte for byte
 * after each pair), in the same process. Figures are events per second per
 * core: events / CPU seconds (user + system) of this process while each ran, and the wall-clock rate.
 * Both sides run {@link WARMUP_RUNS} times unmeasured first: the runtime's code reaches its optimized
 * form only in its third run or so (1.8 s, 1.4 s, then 0.9-1.0 s of CPU for 500,000 events), so a best
 * of three cold runs measured the JIT as much as the runtime.
 *
 * Alone: `node dist/test/bench/stream-bench.js [EVENTS]` (starts its own nats-server for the network
 * environment; no data crosses it).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import windowedEvents from "../../examples/windowed-events.js";
import { runLocally } from "../helpers/local-runtime.js";
import { windowedEventsBareLoop, writeWindowedEventsFiles } from "../helpers/windowed-events-reference.js";
import { startTestNats } from "../helpers/nats-server.js";
import { mainThreadCpuMs } from "./scaling-bench.js";

export interface StreamBenchResult {
  events: number;
  /** The job through the runtime: events per CPU second, per wall second. */
  jobPerCore: number;
  jobWall: number;
  /** The plain loop. */
  loopPerCore: number;
  loopWall: number;
  /** Runtime / loop per core of each measured pair (a job run and the loop run right after it). */
  pairRatios: number[];
  /** The same from the main thread's CPU alone (without V8's helper threads: parallel scavenges, concurrent marking). */
  mainPairRatios: number[];
}

function measure<T>(fn: () => Promise<T>): Promise<{ value: T; cpuS: number; mainS: number; wallS: number }> {
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpuMs(process.pid);
  const t0 = performance.now();
  return fn().then((value) => {
    const c = process.cpuUsage(c0);
    return { value, cpuS: (c.user + c.system) / 1e6, mainS: (mainThreadCpuMs(process.pid) - m0) / 1000, wallS: (performance.now() - t0) / 1000 };
  });
}

/** Unmeasured runs of each side before the measured ones. */
const WARMUP_RUNS = 3;
/**
 * Measured pairs. One run's CPU time varies by up to a half within one process on this machine, so
 * single pairs range from about 0.5 to 1.0; the median of nine moves less than that of five.
 */
const PAIRS = 9;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * `runs` pairs (the job, then the loop right after it) after {@link WARMUP_RUNS} of each: the medians
 * of each side's rates and of the pairs' ratios. A pair's two runs see the machine in about the same
 * state, so the median of the pairs' ratios moves less with the machine's other load than a ratio of
 * two runs taken apart.
 */
export async function benchWindowedEvents(nc: NatsConnection, events: number, runs = PAIRS): Promise<StreamBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "eddy-stream-bench-"));
  const jobPerCore: number[] = [];
  const jobWall: number[] = [];
  const loopPerCore: number[] = [];
  const loopWall: number[] = [];
  const pairRatios: number[] = [];
  const mainPairRatios: number[] = [];
  try {
    for (let w = 0; w < WARMUP_RUNS; w++) {
      const spec = await windowedEvents(["--events", String(events), "--output", join(dir, `warmup-${w}`)], { parallelism: 1 });
      await runLocally(spec, { nc }, 600_000);
      writeWindowedEventsFiles(join(dir, `warmup-loop-${w}`), windowedEventsBareLoop(events, 50));
    }
    for (let r = 0; r < runs; r++) {
      const out = join(dir, `run-${r}`);
      const spec = await windowedEvents(["--events", String(events), "--output", out], { parallelism: 1 });
      const job = await measure(() => runLocally(spec, { nc }, 600_000));
      const loopOut = join(dir, `loop-${r}`);
      const loop = await measure(async () => writeWindowedEventsFiles(loopOut, windowedEventsBareLoop(events, 50)));
      // The same files, or the comparison means nothing.
      for (const file of ["windows.txt", "late.txt"]) {
        if (!readFileSync(join(out, file)).equals(readFileSync(join(loopOut, file)))) throw new Error(`the job's ${file} differs from the loop's`);
      }
      jobPerCore.push(events / job.cpuS);
      jobWall.push(events / job.wallS);
      loopPerCore.push(events / loop.cpuS);
      loopWall.push(events / loop.wallS);
      pairRatios.push(loop.cpuS / job.cpuS);
      mainPairRatios.push(loop.mainS / job.mainS);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    events,
    jobPerCore: median(jobPerCore),
    jobWall: median(jobWall),
    loopPerCore: median(loopPerCore),
    loopWall: median(loopWall),
    pairRatios,
    mainPairRatios,
  };
}

const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} K` : n.toFixed(1));

/** Prints the figures and the ratio. */
export function printStreamBench(r: StreamBenchResult): void {
  const n = r.pairRatios.length;
  console.log(`windowed-events (${r.events} clicks, 1 s tumbling windows per user, late clicks; one thread; medians of ${n} pairs of runs):`);
  console.log(`  through the runtime:  ${fmt(r.jobPerCore)} events/s per core (${fmt(r.jobWall)} events/s wall)`);
  console.log(`  same logic, one loop: ${fmt(r.loopPerCore)} events/s per core (${fmt(r.loopWall)} events/s wall)`);
  const perCore = median(r.pairRatios);
  console.log(
    `  ratio runtime / loop: ${perCore.toFixed(2)} per core (goal >= 0.8: ${perCore >= 0.8 ? "met" : "NOT met"}; the pairs ${r.pairRatios.map((x) => x.toFixed(2)).join(", ")}), ` +
      `${(r.jobWall / r.loopWall).toFixed(2)} wall`,
  );
  // V8's helper threads (parallel scavenges, concurrent marking) are the part of either side's CPU that
  // varies most between runs (25-140 ms of runs of 300-600 ms on the development machine).
  console.log(`  the main thread alone: ${median(r.mainPairRatios).toFixed(2)} (no goal; the pairs ${r.mainPairRatios.map((x) => x.toFixed(2)).join(", ")})`);
}

/** The whole part: its own nats-server (no data crosses it), the runs, the figures. */
export async function streamBench(events: number): Promise<void> {
  const nats = await startTestNats();
  const nc = await connectNats(nats.url, "stream-bench");
  try {
    console.log("");
    printStreamBench(await benchWindowedEvents(nc, events));
  } finally {
    await nc.close();
    await nats.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await streamBench(Number(process.argv[2] ?? process.env.BENCH_STREAM_EVENTS ?? 500_000));
}
