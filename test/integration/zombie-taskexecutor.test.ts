/**
 * A TaskExecutor frozen (SIGSTOP) past its loss detection and woken (SIGCONT) after its tasks were
 * restored elsewhere is a zombie: its old attempts still hold records, pending sink files and
 * checkpoint acknowledgements. None of them may reach the job's committed output or its checkpoints.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { assertExactlyOnce, keyedCounterJob } from "../helpers/keyed-counter.js";
import type { ClusterInfo, JobDetails } from "../../schemas/dispatcher-api.js";

/** A TaskExecutor silent this long is lost (the default is 10 s; the test needs only the loss). */
const HEARTBEAT_TIMEOUT_MS = 4_000;
/**
 * At 2,000 events/s per source subtask (the busier takes 4 of the 7 keys): 8 s of input, read again from
 * the last checkpoint before the freeze, so the job still runs when the zombie wakes (asserted).
 */
const EVENTS = 28_000;
const KEYS = 7;

let cluster: ProcessCluster;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-zombie-te-"));
  cluster = await startProcessCluster({ taskExecutors: 2, slots: 4, env: { EDDY_HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS) } });
});
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The TaskExecutor that runs a subtask of the job's sink (the last vertex), with its process. */
async function sinkWorker(d: JobDetails) {
  const sink = d.vertices[d.vertices.length - 1]!;
  const teId = sink.subtasks[0]!.taskExecutor!;
  const info = await cluster.dispatcher.ask<ClusterInfo>("clusterInfo");
  const pid = info.taskExecutors.find((t) => t.id === teId)!.pid;
  return { teId, proc: cluster.taskExecutors.find((p) => p.pid === pid)! };
}

const subtasksOn = (d: JobDetails, teId: string) => d.vertices.flatMap((v) => v.subtasks).filter((s) => s.taskExecutor === teId);

test("a TaskExecutor frozen past its loss and woken again delivers nothing of its old attempts: output exactly once", async () => {
  const out = join(work, "out");
  const spec = await keyedCounterJob({ events: EVENTS, keys: KEYS, rate: 2_000, intervalMs: 300, output: out });
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const running = await waitForJob(cluster.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed > 0, 30_000, "running and checkpointed");
  const { teId, proc } = await sinkWorker(running);

  proc.signal("SIGSTOP");
  try {
    // Restored without it: every subtask RUNNING on the other worker, and a checkpoint completed since.
    const restored = await waitForJob(
      cluster.dispatcher,
      jobId,
      (d) => allRunning(d) && subtasksOn(d, teId).length === 0,
      60_000,
      "restored on the other TaskExecutor",
    );
    const before = restored.checkpoints.completed;
    const after = await waitForJob(cluster.dispatcher, jobId, (d) => d.checkpoints.completed > before, 30_000, "a checkpoint after the restore");
    assert.equal(after.state, "RUNNING", "the job still runs when the zombie wakes");
  } finally {
    proc.signal("SIGCONT");
  }

  const r = await awaitJobResult(cluster.dispatcher, jobId, 120_000);
  assert.equal(r.state, "FINISHED", JSON.stringify(r.failure));
  assertExactlyOnce(out, EVENTS, KEYS);
  // The woken worker came back as a fresh member: registered again, with all its slots free.
  const info = await waitForWorker(teId);
  assert.equal(info.freeSlots, info.slots, "the zombie's old attempts hold no slot");
});

async function waitForWorker(teId: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const info = await cluster.dispatcher.ask<ClusterInfo>("clusterInfo");
    const te = info.taskExecutors.find((t) => t.id === teId);
    if (te && te.freeSlots === te.slots) return te;
    if (Date.now() > deadline) assert.fail(`TaskExecutor ${teId} not registered again with free slots: ${JSON.stringify(info.taskExecutors)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}
