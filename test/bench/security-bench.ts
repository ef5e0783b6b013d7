/**
 * The cost of the secure default: WordCount and keyed-counter throughput and submit-to-RUNNING
 * latency on a process cluster whose NATS enforces Eddy's roles (its processes under the jobmanager
 * and worker roles) against the same cluster without authorization, in one run. The two kinds
 * alternate (secure, open, secure, open) so that drift of a shared machine falls on both. Two
 * TaskExecutors of one slot each hold a job at parallelism 2: every run exchanges its records between
 * the two processes through NATS, where the permissions are checked (with two slots each, a run
 * whose subtasks shared a process was a third faster than one whose did not, whatever its kind).
 */
import { join } from "node:path";
import { loadJob } from "../../src/sdk/load-job.js";
import { packageRoot } from "../../src/cluster/paths.js";
import { awaitJobResult, startProcessCluster } from "../helpers/process-cluster.js";
import { benchKeyedCounter } from "./checkpoint-bench.js";
import { submitToRunning } from "./footprint-bench.js";
import { writeText } from "./text.js";

interface Figures {
  wordcount: number[];
  keyedCounter: number[];
  submitMs: number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} K`);

/**
 * Runs the comparison with `words` words for WordCount and `events` keyed-counter events: enough for
 * each job to run some seconds, so that keyed-counter takes several checkpoints (every second) and
 * the start and end of a job do not decide the figure.
 */
export async function securityBench(
  work: string,
  words = 3_000_000,
  events = 2_000_000,
  rounds = Number(process.env.BENCH_SECURITY_ROUNDS ?? 5),
): Promise<void> {
  const input = join(work, "security-words.txt");
  await writeText(input, words);
  const figures: Record<"secure" | "insecure", Figures> = {
    secure: { wordcount: [], keyedCounter: [], submitMs: [] },
    insecure: { wordcount: [], keyedCounter: [], submitMs: [] },
  };
  for (let round = 0; round < rounds; round++) {
    for (const kind of ["secure", "insecure"] as const) {
      const cluster = await startProcessCluster({ taskExecutors: 2, slots: 1, insecure: kind === "insecure" });
      try {
        const spec = await loadJob(join(packageRoot(), "examples/wordcount.ts"), ["--input", input, "--output", join(work, `sec-wc-${kind}-${round}`)], {
          parallelism: 2,
        });
        const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
        const r = await awaitJobResult(cluster.dispatcher, jobId, 300_000);
        if (r.state !== "FINISHED") throw new Error(`WordCount (${kind}) ended ${r.state}`);
        figures[kind].wordcount.push(words / (r.netRuntimeMs / 1000));
        figures[kind].keyedCounter.push(await benchKeyedCounter(cluster.dispatcher, join(work, `sec-kc-${kind}-${round}`), events, 1_000));
        figures[kind].submitMs.push(...(await submitToRunning(cluster, 10)).submit);
      } finally {
        await cluster.stop();
      }
    }
  }
  const s = figures.secure;
  const o = figures.insecure;
  const ratio = (a: number, b: number) => `${((a / b) * 100).toFixed(1)}%`;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const runs = (xs: number[]) => `[${xs.map((x) => (x >= 1e3 ? fmt(x) : x.toFixed(0))).join(", ")}]`;
  console.log(`security: secure default vs --insecure, ${rounds} rounds each, alternating (every run in brackets)`);
  const throughput = (name: string, a: number[], b: number[]) =>
    console.log(
      `  ${name}: secure/insecure ${ratio(median(a), median(b))} of medians, ${ratio(mean(a), mean(b))} of means; secure ${fmt(median(a))} records/s ${runs(a)}, insecure ${fmt(median(b))} records/s ${runs(b)}`,
    );
  throughput(`WordCount p=2 (${words} words)`, s.wordcount, o.wordcount);
  throughput(`keyed-counter p=2 (${events} events)`, s.keyedCounter, o.keyedCounter);
  console.log(`  submit to RUNNING p50: secure ${median(s.submitMs).toFixed(0)} ms, insecure ${median(o.submitMs).toFixed(0)} ms`);
}
