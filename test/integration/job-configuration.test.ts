/**
 * `eddy run -D key=value` against real processes: the keys override what the job's main set
 * (checkpoint interval, restart strategy, parallelism) in session and application mode, and a bad
 * key or value exits 2 naming it with nothing submitted. The CLI connects without credentials (the
 * secured test cluster takes that as the admin).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../src/core/time.js";
import { ExecutionPlanStore } from "../../src/ha/execution-plan-store.js";
import { Subjects } from "../../src/rpc/subjects.js";
import type { JobConfig } from "../../src/jobgraph/index.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { runEddy } from "../helpers/eddy-process.js";
import type { CheckpointStatsView, JobDetails, JobOverview } from "../../schemas/dispatcher-api.js";

const work = mkdtempSync(join(tmpdir(), "eddy-job-config-"));
let cluster: ProcessCluster;

before(async () => {
  cluster = await startProcessCluster({ taskExecutors: 1, slots: 4 });
});

after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

const env = () => ({ natsUrl: cluster.natsUrl, prefix: cluster.prefix, timeoutMs: 90_000 });

/** keyed-counter's JOB-ARGS: an endless-enough throttled stream, main's own checkpoint interval 60 s. */
const jobArgs = (out: string) => ["--", "--events", "100000000", "--keys", "5", "--rate", "500", "--checkpoint-interval", "60000", "--output", join(work, out)];

async function jobs(): Promise<JobOverview[]> {
  return cluster.dispatcher.ask<JobOverview[]>("listJobs", {});
}

/** Waits for `n` completed checkpoints of the job and answers its checkpoint statistics. */
function completed(jobId: string, n: number): Promise<CheckpointStatsView> {
  return waitFor(
    async () => {
      const stats = await cluster.dispatcher.ask<CheckpointStatsView | null>("requestJobCheckpoints", { jobId });
      return stats && stats.counts.completed >= n ? stats : undefined;
    },
    60_000,
    `${n} completed checkpoints of job ${jobId}`,
    100,
  );
}

/** The job's config as the Dispatcher stored it (the JobGraph the JobMaster runs). */
async function storedConfig(jobId: string): Promise<JobConfig | undefined> {
  const plans = await ExecutionPlanStore.open(cluster.nc, new Subjects(cluster.prefix).bucket("jobgraphs"));
  return (await plans.get(jobId))?.config;
}

async function cancel(jobId: string): Promise<void> {
  const r = await runEddy(["cancel", jobId], env());
  assert.equal(r.code, 0, r.stderr);
}

/** Runs keyed-counter detached with `flags` and answers the job's id. */
async function submit(flags: string[], out: string): Promise<string> {
  const r = await runEddy(["run", "examples/keyed-counter.ts", "--detached", ...flags, ...jobArgs(out)], env());
  assert.equal(r.code, 0, r.stderr);
  const jobId = /^Job ([0-9a-f]{32}) submitted$/m.exec(r.stdout)?.[1];
  assert.ok(jobId, r.stdout);
  return jobId;
}

/** Every (chained) vertex's parallelism in `details`. */
function parallelisms(details: JobDetails): Set<number> {
  assert.ok(details.vertices.length > 0);
  return new Set(details.vertices.map((v) => v.parallelism));
}

/** `-D pair` for each pair. */
const dFlags = (...pairs: string[]) => pairs.flatMap((p) => ["-D", p]);

test("eddy run -D overrides main's checkpoint interval and default parallelism; the job checkpoints at that interval", async () => {
  const flags = dFlags("execution.checkpointing.interval=200ms", "restart-strategy.type=fixed-delay", "parallelism.default=2");
  const jobId = await submit([...flags, "-Drestart-strategy.fixed-delay.attempts=2"], "session");
  // Main's own interval is 60 s: three completed checkpoints come only from the 200 ms of -D.
  const stats = await completed(jobId, 3);
  assert.equal(stats.config?.interval, 200);
  const st = await runEddy(["status", jobId, "--json"], env());
  assert.equal(st.code, 0, st.stderr);
  assert.deepEqual(parallelisms(JSON.parse(st.stdout) as JobDetails), new Set([2]));
  const config = await storedConfig(jobId);
  assert.deepEqual(config?.restartStrategy, { type: "fixed-delay", attempts: 2 });
  assert.equal(config?.parallelism, 2, "TaskExecutors run main again with it");
  await cancel(jobId);
});

test("application mode: the Dispatcher applies -D after main", async () => {
  const flags = dFlags(
    "execution.checkpointing.interval=300ms",
    "parallelism.default=2",
    "execution.checkpointing.timeout=30s",
    "restart-strategy.type=exponential-delay",
    "restart-strategy.exponential-delay.initial-backoff=50ms",
  );
  const jobId = await submit(["--application", ...flags], "application");
  const stats = await completed(jobId, 2);
  assert.equal(stats.config?.interval, 300);
  assert.equal(stats.config?.timeout, 30_000);
  assert.deepEqual(parallelisms(await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId })), new Set([2]));
  const config = await storedConfig(jobId);
  assert.deepEqual(config?.restartStrategy, { type: "exponential-delay", initialBackoffMs: 50 });
  assert.equal(config?.parallelism, 2);
  await cancel(jobId);

  const contradicting = await runEddy(
    ["run", "examples/keyed-counter.ts", "--application", "-D", "restart-strategy.failure-rate.delay=1s", ...jobArgs("x")],
    env(),
  );
  assert.equal(contradicting.code, 1, "found by the Dispatcher after main: a refusal");
  assert.match(contradicting.stderr, /^error MalformedRequest: restart-strategy.failure-rate.delay needs restart-strategy.type=failure-rate/m);
});

test("an unknown key or a bad value exits 2 naming it, with nothing submitted", async () => {
  const before = (await jobs()).length;
  for (const [pair, re] of [
    ["bogus.key=1", /^error MalformedRequest: unknown configuration key 'bogus.key'/m],
    ["parallelism.default=zero", /^error MalformedRequest: bad value 'zero' for parallelism.default: expected a whole number from 1 to 32768$/m],
  ] as const) {
    for (const mode of [[], ["--application"]]) {
      const r = await runEddy(["run", "examples/keyed-counter.ts", ...mode, "-D", pair, ...jobArgs("never")], env());
      assert.equal(r.code, 2, `${pair} ${mode.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, "");
    }
  }
  assert.equal((await jobs()).length, before, "no job was submitted");
});
