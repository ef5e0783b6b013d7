/**
 * The final checkpoint (FLIP-147) across failures of real processes: a two-phase-commit sink waits at
 * its end of input for a checkpoint to complete before it finishes. Here the leading JobManager is
 * frozen (SIGSTOP) before the sinks reach their end of input, so their end-of-input notices and the
 * final checkpoint are held; once every sink logged that it waits for its final checkpoint, the
 * leader is killed, or a TaskExecutor running a sink is killed and the leader woken. Either way the
 * job must FINISH with each event committed exactly once.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterInfo, JobDetails } from "../../schemas/dispatcher-api.js";
import { waitFor } from "../../src/core/time.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { assertExactlyOnce, keyedCounterJob } from "../helpers/keyed-counter.js";

/** Far longer than the sinks take to reach their end of input once the leader is frozen. */
const LEASE_MS = 10_000;
const EVENTS = 6_000;
const KEYS = 4;
/** The TaskStateManager's debug line of a task waiting at its end of input for its final checkpoint. */
const WAITING = /"msg":"end of input: waiting for the final checkpoint"/;

const work = mkdtempSync(join(tmpdir(), "eddy-final-failover-"));
let cluster: ProcessCluster | undefined;
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The task lines of every TaskExecutor that say a sink waits for its final checkpoint, with the process that logged each. */
function waitingSinks(c: ProcessCluster): Array<{ te: EddyProcess; task: string }> {
  return c.taskExecutors.flatMap((te) => te.stderrLines.filter((l) => WAITING.test(l)).map((l) => ({ te, task: (JSON.parse(l) as { task: string }).task })));
}

/**
 * Starts a cluster and the keyed-counter job (checkpoints every 200 ms, sources paced to end a few
 * seconds after they run), freezes the leader once the job runs and checkpointed, and waits until
 * both sink subtasks wait for their final checkpoint. Resolves with what the test needs next.
 */
async function frozenAtEndOfInput(name: string): Promise<{ c: ProcessCluster; jobId: string; leader: EddyProcess; out: string }> {
  const c = await startProcessCluster({
    taskExecutors: 3,
    slots: 2,
    jobManagers: 2,
    env: { EDDY_LEASE_MS: String(LEASE_MS) },
    taskExecutorLogLevel: "debug",
  });
  cluster = c;
  const out = join(work, name);
  const spec = await keyedCounterJob({ events: EVENTS, keys: KEYS, rate: 1_500, intervalMs: 200, output: out });
  const { jobId } = await c.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  await waitForJob(c.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed >= 1, 30_000, "running and checkpointed");
  const info = await c.dispatcher.ask<ClusterInfo>("clusterInfo");
  const leader = c.jobManagers.find((p) => p.pid === info.leaders.dispatcher?.pid);
  assert.ok(leader, "the leading JobManager is one of the cluster's processes");
  assert.deepEqual(waitingSinks(c), [], "no sink reached its end of input before the leader was frozen");
  leader.signal("SIGSTOP");
  await waitFor(() => (waitingSinks(c).length >= 2 ? true : undefined), LEASE_MS / 2, "both sink subtasks waiting for their final checkpoint", 50);
  const tasks = waitingSinks(c).map((w) => w.task);
  assert.equal(new Set(tasks).size, 2, `two sink subtasks wait at their end of input: ${tasks.join(", ")}`);
  assert.ok(
    tasks.every((t) => t.startsWith("Keyed Count -> Sink")),
    `the waiting tasks are the sinks (chained with the count): ${tasks.join(", ")}`,
  );
  return { c, jobId, leader, out };
}

test("the leader lost while the sinks wait at their end of input for the final checkpoint: the job FINISHES, each event committed once", async () => {
  const { c, jobId, leader, out } = await frozenAtEndOfInput("jm-lost");
  leader.kill();
  await leader.waitForExit(10_000);
  const result = await awaitJobResult(c.dispatcher, jobId, 120_000, { acrossFailover: true });
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  const info = await c.dispatcher.ask<ClusterInfo>("clusterInfo");
  assert.notEqual(info.leaders.dispatcher?.pid, leader.pid, "the standby finished the job");
  assertExactlyOnce(out, EVENTS, KEYS);
  await c.stop();
  cluster = undefined;
});

test("a TaskExecutor lost while its sink waits at its end of input for the final checkpoint: the job FINISHES, each event committed once", async () => {
  const { c, jobId, leader, out } = await frozenAtEndOfInput("te-lost");
  const victim = waitingSinks(c)[0]!.te;
  victim.kill();
  await victim.waitForExit(10_000);
  // Woken within its lease: the leader handles the held end-of-input notices with one sink's worker gone.
  leader.signal("SIGCONT");
  const result = await awaitJobResult(c.dispatcher, jobId, 120_000, { acrossFailover: true });
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  const d = await c.dispatcher.ask<JobDetails>("requestJob", { jobId });
  assert.ok(
    d.vertices.some((v) => v.subtasks.some((s) => s.attempt >= 1)),
    "the lost sink's tasks ran again (a failover under the same leader)",
  );
  const info = await c.dispatcher.ask<ClusterInfo>("clusterInfo");
  assert.equal(info.leaders.dispatcher?.pid, leader.pid, "the woken leader kept its lease and finished the job");
  assertExactlyOnce(out, EVENTS, KEYS);
});
