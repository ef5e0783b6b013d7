/**
 * What shipping user code costs (`node dist/test/bench/user-code-bench.js`, also part of `npm run
 * bench`): submit-to-RUNNING of a two-vertex job that ships a bundle — the first run (the
 * TaskExecutor downloads, verifies and imports the bundle, then runs main) and later runs (cache
 * hit; main runs again per job) — against the same graph of built-ins without a bundle, measured in
 * the same run on one warm process cluster. Also the bundle's size and the client's bundling time.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildJob } from "../../src/sdk/load-job.js";
import { BundleStore } from "../../src/blob/index.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { startProcessCluster, awaitJobResult, type ProcessCluster } from "../helpers/process-cluster.js";

const RUNS = Number(process.env.BENCH_USERCODE_RUNS ?? 30);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const JOB = `
import { USER_FUNCTIONS } from "eddy/runtime";
import { jobArg } from "eddy";
export default (args: string[]) => Object.assign(
  {
    name: jobArg(args, "--name") ?? "latency with code",
    vertices: [
      { id: "src", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 999 } },
      { id: "sink", invokable: "sink.discard", parallelism: 1 },
    ],
    edges: [{ source: "src", target: "sink", partitioner: "forward" }],
  },
  { [USER_FUNCTIONS]: new Map([["inc", (x: number) => x + 1]]) },
);
`;

/** ms from submission until every subtask is RUNNING. */
async function submitToRunning(cluster: ProcessCluster, spec: unknown): Promise<number> {
  const t0 = Date.now();
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const r = await awaitJobResult(cluster.dispatcher, jobId);
  if (r.state !== "FINISHED") throw new Error(`job ended ${r.state}: ${JSON.stringify(r.failure)}`);
  const d = await cluster.dispatcher.ask<{ vertices: Array<{ subtasks: Array<{ timestamps: Record<string, number> }> }> }>("requestJob", { jobId });
  return Math.max(...d.vertices.flatMap((v) => v.subtasks.map((s) => s.timestamps.RUNNING ?? Infinity))) - t0;
}

/** Runs the benchmark on a cluster of its own and prints its lines. */
export async function userCodeBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "eddy-bench-usercode-"));
  const cluster = await startProcessCluster({ taskExecutors: 1, slots: 2 });
  try {
    writeFileSync(join(dir, "job.ts"), JOB);
    const b0 = performance.now();
    const { spec, bundle } = await buildJob(join(dir, "job.ts"), []);
    const bundleMs = performance.now() - b0;
    const store = await BundleStore.open(cluster.nc, new Subjects(cluster.prefix));
    const u0 = performance.now();
    await store.put(bundle.bytes);
    const uploadMs = performance.now() - u0;
    const { bundle: _b, ...plain } = spec;

    // Warm the cluster with the plain graph, then measure: the first job with the bundle is cold.
    for (let i = 0; i < 3; i++) await submitToRunning(cluster, plain);
    const cold = await submitToRunning(cluster, spec);
    const withCode: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      without.push(await submitToRunning(cluster, plain));
      withCode.push(await submitToRunning(cluster, spec));
    }
    console.log("");
    console.log(
      `user code (bundle ${(bundle.ref.size / 1024).toFixed(1)} KiB; client bundling + main ${bundleMs.toFixed(0)} ms, upload ${uploadMs.toFixed(0)} ms):`,
    );
    console.log(`  submit-to-RUNNING, two-vertex job, first with the bundle (fetch, verify, import, main): ${cold} ms`);
    console.log(`  submit-to-RUNNING (n=${RUNS}) with the bundle (cache hit, main again): p50 ${pct(withCode, 50)} ms, p99 ${pct(withCode, 99)} ms`);
    console.log(`  submit-to-RUNNING (n=${RUNS}) same graph without a bundle:              p50 ${pct(without, 50)} ms, p99 ${pct(without, 99)} ms`);
    console.log(`  ratio with / without (p50): ${(pct(withCode, 50) / Math.max(1, pct(without, 50))).toFixed(2)}`);
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  userCodeBench().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
