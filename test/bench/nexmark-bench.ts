/**
 * `npm run bench -- nexmark`: Nexmark's queries q0–q5, q7 and q8 (examples/nexmark.ts, its generator
 * as the source) into a discarding sink, as Flink's Nexmark writes into a blackhole: first through
 * the whole runtime in one thread at parallelism 1 (test/helpers/local-runtime.ts: chaining, the
 * network stack with same-thread links, keyed state, timers, watermarks), then at parallelism 2 on a
 * mini cluster (test/bench/nexmark-discard-job.ts). The figure is events per second per core: events
 * / CPU seconds (user + system of this process, every thread of it, and of its child processes, while
 * the job ran), beside Flink 1.13's per-core figures from the Nexmark benchmark's published results.
 *
 * Alone: `node dist/test/bench/nexmark-bench.js [EVENTS] [q0,q4,...]` (starts its own nats-server for
 * the network environment; no data crosses it). EVENTS defaults to BENCH_NEXMARK_EVENTS or 1,000,000.
 */
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { packageRoot } from "../../src/cluster/paths.js";
import { buildJob } from "../../src/sdk/load-job.js";
import { MiniCluster } from "../../src/testing/index.js";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { StreamExecutionEnvironment } from "../../src/sdk/index.js";
import { nexmarkEvents } from "../../examples/nexmark.js";
import { QUERIES, runQuery, type Query } from "../../examples/nexmark/queries.js";
import { runLocally } from "../helpers/local-runtime.js";
import { startTestNats } from "../helpers/nats-server.js";

/** Flink 1.13's events per second per core (Nexmark's published results). */
export const FLINK_PER_CORE: Record<Query, number> = {
  q0: 155_000,
  q1: 157_900,
  q2: 175_200,
  q3: 152_100,
  q4: 34_300,
  q5: 22_100,
  q7: 12_300,
  q8: 146_100,
};

export interface NexmarkBenchRow {
  query: Query;
  events: number;
  cpuS: number;
  wallS: number;
  /** Events per CPU second, and per wall second. */
  perCore: number;
  wall: number;
}

/** One run of `query` over `events` generated events at parallelism 1, into a discarding sink. */
export async function benchQuery(nc: NatsConnection, query: Query, events: number): Promise<NexmarkBenchRow> {
  const env = new StreamExecutionEnvironment(`Nexmark ${query} bench`, { parallelism: 1 });
  runQuery(query, nexmarkEvents(env, ["--events", String(events)])).discard();
  const spec = env.build();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await runLocally(spec, { nc }, 1_800_000);
  const c = process.cpuUsage(c0);
  const cpuS = (c.user + c.system) / 1e6;
  const wallS = (performance.now() - t0) / 1000;
  return { query, events, cpuS, wallS, perCore: events / cpuS, wall: events / wallS };
}

/**
 * CPU seconds of this process's descendants: the live ones (the mini cluster's nats-server) from
 * /proc, the exited ones it waited for from its own cutime and cstime. Linux only; 0 elsewhere.
 */
function childrenCpuS(): number {
  const tick = 100; // USER_HZ on Linux
  const stat = (pid: string): string[] | undefined => {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, "utf8");
      return s.slice(s.lastIndexOf(")") + 2).split(" ");
    } catch {
      return undefined;
    }
  };
  const self = stat("self");
  if (!self) return 0;
  // Fields after the command: [0] state, [1] ppid, ... [11] utime, [12] stime, [13] cutime, [14] cstime.
  let ticks = Number(self[13]) + Number(self[14]);
  const parents = new Set([String(process.pid)]);
  let grew = true;
  const procs = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  const stats = new Map(procs.map((p) => [p, stat(p)] as const));
  while (grew) {
    grew = false;
    for (const [pid, f] of stats) {
      if (!f || parents.has(pid) || !parents.has(f[1]!)) continue;
      parents.add(pid);
      ticks += Number(f[11]) + Number(f[12]);
      grew = true;
    }
  }
  return ticks / tick;
}

/**
 * One run of `query` at `parallelism` on a mini cluster (a JobManager and one TaskExecutor in this
 * process, its slots worker threads; records crossing between slots are encoded frames over
 * MessagePorts, control traffic goes through the nats-server child): the job file is built and its
 * bundle uploaded first, then CPU is measured from submission to the result, this process's (every
 * thread) and its children's.
 */
export async function benchQueryOnCluster(cluster: MiniCluster, query: Query, events: number, parallelism: number): Promise<NexmarkBenchRow> {
  const file = join(packageRoot(), "test/bench/nexmark-discard-job.ts");
  const { spec, bundle } = await buildJob(file, ["--query", query, "--events", String(events)], { parallelism });
  await cluster.client.uploadBundle(bundle.bytes);
  const c0 = process.cpuUsage();
  const k0 = childrenCpuS();
  const t0 = performance.now();
  const jobId = await cluster.client.submit(spec);
  const res = await cluster.client.result(jobId, { deadlineMs: 1_800_000 });
  if (res.state !== "FINISHED") throw new Error(`Nexmark ${query} on the mini cluster ended ${res.state}: ${JSON.stringify(res.failure)}`);
  const c = process.cpuUsage(c0);
  const cpuS = (c.user + c.system) / 1e6 + (childrenCpuS() - k0);
  const wallS = (performance.now() - t0) / 1000;
  return { query, events, cpuS, wallS, perCore: events / cpuS, wall: events / wallS };
}

const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} K`);

/** Prints one row per query: Eddy's figures, Flink's, and the ratio. */
export function printNexmarkBench(title: string, rows: readonly NexmarkBenchRow[]): void {
  console.log(`Nexmark, ${rows[0]?.events ?? 0} generated events per query, ${title}; ${availableParallelism()} cores on the machine, shared:`);
  console.log("  query  Eddy events/s per core  (wall, cores used)   Flink 1.13 per core   Eddy / Flink");
  for (const r of rows) {
    const flink = FLINK_PER_CORE[r.query];
    console.log(
      `  ${r.query}     ${fmt(r.perCore).padStart(9)}              (${fmt(r.wall).padStart(8)}, ${(r.cpuS / r.wallS).toFixed(2)})     ${fmt(flink).padStart(9)}           ${(r.perCore / flink).toFixed(2)}`,
    );
  }
}

/**
 * The whole part: one run per query in one thread (its own nats-server, which no data crosses), then
 * one per query at parallelism 2 on a mini cluster; a table each.
 */
export async function nexmarkBench(events: number, queries: readonly Query[] = QUERIES): Promise<void> {
  const nats = await startTestNats();
  const nc = await connectNats(nats.url, "nexmark-bench");
  try {
    // A short untimed run of each query first, so that the timed runs measure optimized code.
    for (const q of queries) await benchQuery(nc, q, Math.min(events, 100_000));
    const rows: NexmarkBenchRow[] = [];
    for (const q of queries) rows.push(await benchQuery(nc, q, events));
    console.log("");
    printNexmarkBench("parallelism 1, the whole job in one thread (same-thread links: records never encoded); CPU = user + system of this process", rows);
  } finally {
    await nc.close();
    await nats.stop();
  }
  const cluster = await MiniCluster.start({ taskExecutors: 1, slots: 2 });
  try {
    // The slot threads live on from job to job: a short untimed run of each query warms them too.
    for (const q of queries) await benchQueryOnCluster(cluster, q, Math.min(events, 100_000), 2);
    const rows: NexmarkBenchRow[] = [];
    for (const q of queries) rows.push(await benchQueryOnCluster(cluster, q, events, 2));
    console.log("");
    printNexmarkBench(
      "parallelism 2 on a mini cluster (one TaskExecutor, two slot threads: records between them encoded, over MessagePorts); CPU = this process and its nats-server, submission to result",
      rows,
    );
  } finally {
    await cluster.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const queries = process.argv[3]?.split(",") ?? [...QUERIES];
  for (const q of queries) if (!(QUERIES as readonly string[]).includes(q)) throw new Error(`unknown query "${q}"; queries: ${QUERIES.join(", ")}`);
  await nexmarkBench(Number(process.argv[2] ?? process.env.BENCH_NEXMARK_EVENTS ?? 1_000_000), queries as Query[]);
}
