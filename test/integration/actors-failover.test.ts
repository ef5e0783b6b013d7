/**
 * Actor applications through a SIGKILL of the TaskExecutor that runs the actors, on a process cluster:
 * the bank's balances stay exact with local and with remote accounts, and messages delayed across the
 * restore are each delivered once.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildJob } from "../../src/sdk/load-job.js";
import { BundleStore } from "../../src/blob/index.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { packageRoot } from "../../src/cluster/paths.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";
import { killTaskExecutor, startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { committedLines } from "../helpers/keyed-counter.js";
import { checkApplied, expectedPatterns, transfers, writeTransfers } from "../helpers/bank.js";
import { serveAccounts } from "../../examples/bank-function.js";

let cluster: ProcessCluster;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-actors-"));
  cluster = await startProcessCluster({ taskExecutors: 3, slots: 2 });
});
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

/**
 * Submits `file` with `args`, waits until it runs with a checkpoint completed and committed output
 * in `out`, SIGKILLs the TaskExecutor running the vertex `actors`, starts another in its place, and
 * waits for the job's end, checking that the actors ran again from a checkpoint.
 */
async function runThroughKill(file: string, args: string[], actors: string, out: string) {
  // What `eddy run` does: build the job here, ship its code, submit (with a fast checkpoint interval).
  const { spec, bundle } = await buildJob(join(packageRoot(), file), args, { parallelism: 2 });
  await (await BundleStore.open(cluster.nc, new Subjects(cluster.prefix))).put(bundle.bytes);
  spec.config = { ...spec.config, checkpointing: { intervalMs: 200 }, restartStrategy: { type: "fixed-delay", attempts: 20, delayMs: 100 } };
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const d = await waitForJob(cluster.dispatcher, jobId, (x) => allRunning(x) && x.checkpoints.completed > 0, 60_000, "running and checkpointed");
  const seen = d.checkpoints.completed;
  const later = await waitForJob(cluster.dispatcher, jobId, (x) => x.checkpoints.completed > seen + 1, 30_000, "two more checkpoints");
  assert.equal(later.state, "RUNNING", "the job still runs at the kill");
  assert.ok(committedLines(out).length > 0, "output was committed before the kill");
  // The actors' vertex (over two subtasks, its feedback loop beside it).
  const isActors = (v: { name: string }) => v.name === actors;
  const vertex = d.vertices.find(isActors);
  assert.ok(vertex, `a vertex named ${actors}: ${d.vertices.map((v) => v.name).join(", ")}`);
  await killTaskExecutor(cluster, vertex.subtasks[0]!.taskExecutor!);
  await cluster.addTaskExecutor(2);
  const result = await awaitJobResult(cluster.dispatcher, jobId, 120_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  const after = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  assert.ok(after.vertices.find(isActors)!.subtasks[0]!.attempt >= 1, "the actors were restored from a checkpoint");
}

test("bank: a SIGKILL of the TaskExecutor running local accounts applies every transfer exactly once", async () => {
  // 3 s of input at 1,000/s: the kill comes under 0.9 s in (also with one core busy).
  const ts = transfers(3_000, 60, 21);
  const input = join(work, "local.jsonl");
  writeTransfers(input, ts);
  const out = join(work, "local");
  await runThroughKill("examples/bank.ts", ["--input", input, "--output", out, "--rate", "1000"], "Accounts", out);
  checkApplied(committedLines(out), ts);
});

test("bank --remote: a SIGKILL mid-way repeats requests but applies every reply once", async () => {
  const ts = transfers(3_000, 40, 22);
  const input = join(work, "remote.jsonl");
  writeTransfers(input, ts);
  const out = join(work, "remote");
  const served = serveAccounts(cluster.nc, cluster.prefix);
  await runThroughKill("examples/bank.ts", ["--input", input, "--output", out, "--rate", "1000", "--remote"], "Accounts", out);
  checkApplied(committedLines(out), ts);
  assert.ok(served.requests > 0);
});

test("messages delayed across a restore are delivered once; cycles and self-messages too", async () => {
  const out = join(work, "patterns");
  const args = ["--output", out, "--chains", "30", "--hops", "40", "--delayed", "8", "--delay-ms", "300", "--rate", "10"];
  await runThroughKill("test/fixtures/actor-patterns-job.ts", args, "Patterns", out);
  assert.deepEqual(committedLines(out).sort(), expectedPatterns(30, 40, 8));
});
