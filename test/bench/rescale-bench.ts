/**
 * Reactive rescaling: a keyed-counter job on a reactive cluster that starts with one TaskExecutor of
 * one slot; two more are started one after the other. For each: the time from starting the process
 * to its registration at the ResourceManager (the baseline: what a worker costs to come up) and to
 * the job RUNNING at the higher parallelism, with the parallelism timeline of the run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProcessCluster } from "../helpers/process-cluster.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { keyedCounterJob } from "../helpers/keyed-counter.js";
import { ParallelismRecorder } from "../helpers/parallelism-recorder.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";

const latestRunning = (d: JobDetails) => Math.max(...d.vertices.flatMap((v) => v.subtasks.map((s) => s.timestamps.RUNNING ?? 0)));

/** Runs the rescale benchmark and prints its figures. */
export async function rescaleBench(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "eddy-rescale-bench-"));
  // No cooldown, so that each figure is the rescale itself (Flink's default scaling-interval.min, 30 s, would add up to 30 s after a previous rescale).
  const cluster = await startProcessCluster({ taskExecutors: 1, slots: 1, jobManagerArgs: ["--reactive"], env: { EDDY_ADAPTIVE_SCALING_INTERVAL_MS: "0" } });
  try {
    const spec = await keyedCounterJob({ events: 1_000_000_000, keys: 64, rate: 20_000, intervalMs: 500, output: join(work, "out"), parallelism: 1 });
    const t0 = Date.now();
    const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
    const recorder = new ParallelismRecorder(cluster.dispatcher, jobId, 50).start();
    const first = await waitForJob(cluster.dispatcher, jobId, (d) => allRunning(d) && (d.checkpoints.latest?.id ?? 0) > 0, 60_000, "running with a checkpoint");
    const submitToRunning = latestRunning(first) - t0;
    const rows: string[] = [];
    for (const p of [2, 3]) {
      const started = Date.now();
      await cluster.addTaskExecutor(1);
      const registered = Date.now() - started;
      const d = await waitForJob(cluster.dispatcher, jobId, (x) => allRunning(x) && x.vertices.every((v) => v.parallelism === p), 60_000, `RUNNING at ${p}`);
      const running = latestRunning(d) - started;
      rows.push(
        `  TaskExecutor #${p} started -> registered ${registered} ms -> job RUNNING at p=${p} ${running} ms (rescale after registration ${running - registered} ms; ratio to the initial submit-to-RUNNING ${((running - registered) / submitToRunning).toFixed(2)})`,
      );
      await waitForJob(
        cluster.dispatcher,
        jobId,
        (x) => (x.checkpoints.latest?.id ?? 0) > (d.checkpoints.latest?.id ?? 0),
        30_000,
        "a checkpoint at the new parallelism",
      );
    }
    recorder.stop();
    await cluster.dispatcher.ask("cancelJob", { jobId });
    await awaitJobResult(cluster.dispatcher, jobId, 30_000);
    console.log("");
    console.log(
      `reactive rescale (keyed-counter, 1 slot per TaskExecutor, restore from the latest checkpoint; initial submit-to-RUNNING at p=1: ${submitToRunning} ms):`,
    );
    for (const r of rows) console.log(r);
    console.log(`  parallelism timeline: ${recorder.describe()}`);
  } finally {
    await cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  rescaleBench().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
