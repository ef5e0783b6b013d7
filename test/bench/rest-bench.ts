/**
 * REST latency: `GET /jobs/:jid` of a running job at parallelism 256 (sequence -> discard over a
 * pointwise edge, two TaskExecutors of 128 slots) while the Dispatcher holds 200 finished jobs, measured from the leader's
 * web server over HTTP one request after the other; also `GET /jobs/overview` (all 201 jobs) and the
 * same `/jobs/:jid` from a standby JobManager (both read the leading Dispatcher over NATS).
 * Back-to-back requests share the web server's reads (READ_TTL_MS); the same requests spaced beyond
 * that, as a dashboard polling once a second, are each read anew. Prints p50 / p99 (goal: p99 < 20 ms
 * for `/jobs/:jid`).
 */
import { startProcessCluster, webUrlOf } from "../helpers/process-cluster.js";
import { allRunning, awaitJobResult, runToCompletion, waitForJob } from "../helpers/jobs.js";
import { http } from "../helpers/http-client.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";
import { sleep, waitFor } from "../../src/core/time.js";
import { READ_TTL_MS } from "../../src/web/dispatcher-reader.js";

const FINISHED_JOBS = Number(process.env.BENCH_REST_FINISHED ?? 200);
const PARALLELISM = Number(process.env.BENCH_REST_PARALLELISM ?? 256);
const REQUESTS = Number(process.env.BENCH_REST_REQUESTS ?? 500);
const SETTLE_MS = Number(process.env.BENCH_REST_SETTLE_MS ?? 15_000);

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** `n` sequential GETs of `target`, `gapMs` apart; the latency of each, ms. */
async function measure(base: string, target: string, n: number, gapMs = 0): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n + 10; i++) {
    if (gapMs > 0) await sleep(gapMs);
    const t0 = performance.now();
    const r = await http(base, "GET", target);
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`GET ${target}: ${r.status} ${r.text.slice(0, 200)}`);
    if (i >= 10) out.push(ms); // the first ones warm the connection paths and JIT
  }
  return out;
}

/** Runs the REST benchmark and prints its figures. */
export async function restBench(): Promise<void> {
  const slots = Math.ceil(PARALLELISM / 2);
  // Slot threads stay up between the job's attempts: on a small machine a few of 128 threads starting at
  // once miss their start timeout, and the restart finds the others warm.
  const cluster = await startProcessCluster({
    taskExecutors: 2,
    slots,
    jobManagers: 2,
    logLevel: "info",
    taskExecutorLogLevel: "warn",
    env: { EDDY_SLOT_IDLE_MS: "600000" },
  });
  try {
    const web = await webUrlOf(cluster.jobManagers[0]!);
    const standby = await webUrlOf(cluster.jobManagers[1]!);
    const t0 = Date.now();
    const progress = (what: string) => console.error(`# rest bench: ${what} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    for (let i = 0; i < FINISHED_JOBS; i++) {
      const r = await runToCompletion(cluster.dispatcher, {
        name: `finished ${i}`,
        vertices: [
          { id: "numbers", invokable: "source.sequence", parallelism: 1, config: { from: 1, to: 10 } },
          { id: "sink", invokable: "sink.discard", parallelism: 1 },
        ],
        edges: [{ source: "numbers", target: "sink", partitioner: "rebalance" }],
      });
      if (r.state !== "FINISHED") throw new Error(`finished job ${i} ended ${r.state}`);
    }
    progress(`${FINISHED_JOBS} finished jobs`);
    // The finished jobs' slots go back to the ResourceManager asynchronously: the big job waits for all of them.
    const total = 2 * slots;
    const free = await waitFor(
      async () => {
        const o = (await http(web, "GET", "/overview")).json as { "slots-available": number };
        return o["slots-available"] === total ? o : undefined;
      },
      180_000,
      `all ${total} slots free`,
      500,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${(await http(web, "GET", "/overview")).text}`);
    });
    progress(`${free["slots-available"]} slots free`);
    const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", {
      name: `p${PARALLELISM}`,
      vertices: [
        { id: "numbers", invokable: "source.sequence", parallelism: PARALLELISM, config: { from: 0, to: 1e12, ratePerSecond: PARALLELISM } },
        { id: "sink", invokable: "sink.discard", parallelism: PARALLELISM },
      ],
      // Pointwise (`rescale`, one channel per subtask pair, not chained): the body has both vertices'
      // subtasks, while an all-to-all edge's 65,536 channels would measure the network stack on 2 cores.
      edges: [{ source: "numbers", target: "sink", partitioner: "rescale" }],
      config: { restartStrategy: { type: "fixed-delay", attempts: 100, delayMs: 1_000 } },
    });
    // 2 x PARALLELISM tasks in PARALLELISM slot threads: on a small machine their start takes minutes,
    // and some miss their start timeout (the job restarts). The body's size, what /jobs/:jid costs,
    // is the same in every state: the figures are taken once the job is RUNNING, all its subtasks
    // RUNNING when that comes within BENCH_REST_DEPLOY_MS, and the subtasks' states are printed.
    const ended = (d: JobDetails) => {
      if (["FINISHED", "CANCELED", "FAILED"].includes(d.state))
        throw new Error(`the job at parallelism ${PARALLELISM} ended ${d.state}: ${d.failure?.message}`);
      return d.state === "RUNNING";
    };
    await waitForJob(cluster.dispatcher, jobId, ended, 120_000, `RUNNING at parallelism ${PARALLELISM}`);
    const deployMs = Number(process.env.BENCH_REST_DEPLOY_MS ?? 300_000);
    await waitForJob(cluster.dispatcher, jobId, allRunning, deployMs, "every subtask RUNNING").catch(() => undefined); // measured as it is
    const subtaskStates = (d: JobDetails) => {
      const states: Record<string, number> = {};
      for (const v of d.vertices) for (const s of v.subtasks) states[s.state] = (states[s.state] ?? 0) + 1;
      return JSON.stringify(states);
    };
    const during = subtaskStates(await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId }));
    progress(`the job RUNNING at parallelism ${PARALLELISM}, subtasks ${during}`);
    // Right after the deployment the processes are busy with the tasks' start (connections, first
    // reports, compilation) and answers take up to ~200 ms for a few seconds: the steady state is measured.
    await sleep(SETTLE_MS);
    const job = await measure(web, `/jobs/${jobId}`, REQUESTS);
    // Spaced beyond the web server's read TTL, as a dashboard polling once a second: every one is read anew.
    const spaced = await measure(web, `/jobs/${jobId}`, Math.min(REQUESTS, 100), READ_TTL_MS + 50);
    const overview = await measure(web, "/jobs/overview", Math.min(REQUESTS, 200));
    const fromStandby = await measure(standby, `/jobs/${jobId}`, Math.min(REQUESTS, 200));
    await cluster.dispatcher.ask("cancelJob", { jobId });
    await awaitJobResult(cluster.dispatcher, jobId, 60_000);
    const line = (what: string, xs: number[]) =>
      `  ${what.padEnd(44)} p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms (${xs.length} requests; slowest ${[...xs]
        .sort((a, b) => b - a)
        .slice(0, 6)
        .map((x) => x.toFixed(0))
        .join(", ")} ms)`;
    console.log("");
    console.log(
      `REST latency (${FINISHED_JOBS} finished jobs in the history, one RUNNING at parallelism ${PARALLELISM}, subtasks ${during}; goal p99 < 20 ms):`,
    );
    console.log(line(`GET /jobs/:jid (p=${PARALLELISM}), leader`, job));
    console.log(line(`GET /jobs/:jid (p=${PARALLELISM}), leader, ${READ_TTL_MS + 50} ms apart`, spaced));
    console.log(line(`GET /jobs/:jid (p=${PARALLELISM}), standby`, fromStandby));
    console.log(line(`GET /jobs/overview (${FINISHED_JOBS + 1} jobs), leader`, overview));
  } finally {
    await cluster.stop();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  restBench().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
