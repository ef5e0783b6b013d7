/**
 * How fast the `eddy` command answers (`npm run bench -- cli`): wall time from spawning
 * `node bin/eddy.js <command>` to the process's exit, p50 and p90 over BENCH_CLI_RUNS runs, for
 * `--help` (no cluster) and for list, status and info against a running process cluster, next to
 * node's own startup (`node -e 0`), the floor under every figure. Target: list/status/info within
 * 150 ms of process start. Runs one process at a time; `npx eddy` adds npx's own startup on top.
 */
import { spawn } from "node:child_process";
import { eddyBin, packageRoot } from "../../src/cluster/paths.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { runToCompletion } from "../helpers/jobs.js";

const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 21);
/** Runs before the measured ones (disk cache, the cluster's first answers). */
const WARMUP = 2;
const TARGET_MS = 150;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** ms from spawning `node <args>` to its exit; rejects unless it exits 0 within 10 s. */
function timeProcess(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: packageRoot(), env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", (code, signal) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      clearTimeout(timer);
      if (code === 0) resolve(ms);
      else reject(new Error(`node ${args.join(" ")} exited ${code ?? signal}: ${stderr.slice(0, 500)}`));
    });
  });
}

/** p50 and p90 of `node <args>` over RUNS runs after WARMUP. */
async function measure(args: string[], env: NodeJS.ProcessEnv): Promise<{ p50: number; p90: number }> {
  const times: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const ms = await timeProcess(args, env);
    if (i >= WARMUP) times.push(ms);
  }
  return { p50: pct(times, 50), p90: pct(times, 90) };
}

/** Measures and prints the CLI's response times. */
export async function cliBench(): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, EDDY_NATS_URL: "nats://127.0.0.1:1", EDDY_LOG_LEVEL: "warn" };
  const eddy = eddyBin();
  const floor = await measure(["-e", "0"], env);
  const help = await measure([eddy, "--help"], env);
  let cluster: ProcessCluster | undefined;
  const rows: Array<[string, { p50: number; p90: number }]> = [];
  try {
    cluster = await startProcessCluster({ taskExecutors: 1, slots: 2 });
    const clusterEnv = { ...env, EDDY_NATS_URL: cluster.natsUrl, EDDY_PREFIX: cluster.prefix };
    const r = await runToCompletion(cluster.dispatcher, {
      name: "cli-bench",
      vertices: [
        { id: "src", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 999 } },
        { id: "sink", invokable: "sink.discard", parallelism: 2 },
      ],
      edges: [{ source: "src", target: "sink", partitioner: "rebalance" }],
    });
    for (const [name, args] of [
      ["list", ["list"]],
      ["status", ["status", r.jobId]],
      ["info", ["info"]],
    ] as const)
      rows.push([name, await measure([eddy, ...args], clusterEnv)]);
  } finally {
    await cluster?.stop();
  }
  const f = (m: { p50: number; p90: number }) => `p50 ${m.p50.toFixed(0)} ms, p90 ${m.p90.toFixed(0)} ms`;
  const worst = Math.max(...rows.map(([, m]) => m.p50));
  console.log("");
  console.log(`CLI response, spawn to exit (n=${RUNS} each, one at a time; node -e 0 itself: ${f(floor)}):`);
  console.log(`  eddy --help             ${f(help)}`);
  for (const [name, m] of rows) console.log(`  eddy ${name.padEnd(19)}${f(m)}`);
  console.log(
    `  target: list/status/info p50 within ${TARGET_MS} ms of process start: ${worst <= TARGET_MS ? "met" : "NOT met"} (worst p50 ${worst.toFixed(0)} ms)`,
  );
}
