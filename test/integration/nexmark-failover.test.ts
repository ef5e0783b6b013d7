/**
 * Nexmark's windowed queries through a SIGKILLed TaskExecutor on a process cluster: q5 (sliding
 * windows, then a keyed process function with timers) and q8 (a window coGroup), each run by
 * `eddy run examples/nexmark.ts` at parallelism 2 with checkpointing on two one-slot TaskExecutors
 * and a third, idle one. Once a checkpoint has completed and committed output exists, the worker
 * running the query's last keyed operator is SIGKILLed; the job restores from its checkpoint on the
 * spare and finishes, and the committed output is exactly the single-threaded reference's answer.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../src/cluster/paths.js";
import { waitFor } from "../../src/core/time.js";
import { killTaskExecutor, startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { pidAlive, spawnEddy } from "../helpers/eddy-process.js";
import { allRunning, waitForJob } from "../helpers/jobs.js";
import { committedLines } from "../helpers/keyed-counter.js";
import { nexmarkReference } from "../helpers/nexmark-reference.js";
import { DEFAULT_CONFIG, nexmarkEvent } from "../../examples/nexmark/generator.js";
import type { ClusterInfo, JobDetails } from "../../schemas/dispatcher-api.js";

let cluster: ProcessCluster;
let work: string;
before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-nexmark-failover-"));
  cluster = await startProcessCluster({ taskExecutors: 3, slots: 1 });
});
after(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Each vertex's subtask states, for a failed precondition. */
const subtaskStates = (d: JobDetails) => `${d.state}; ${d.vertices.map((v) => `${v.id}: ${v.subtasks.map((s) => s.state).join(",")}`).join("; ")}`;

/**
 * Runs `query` over `events` generated events at `rate` per second (also their event-time rate),
 * kills the worker of subtask 0 of vertex `victimVertex` mid-way and checks the committed output.
 */
async function survivesKill(query: "q5" | "q8", events: number, rate: number, victimVertex: string): Promise<void> {
  const out = join(work, query);
  const run = spawnEddy(
    [
      "run",
      join(packageRoot(), "examples/nexmark.ts"),
      "--parallelism",
      "2",
      "-D",
      "execution.checkpointing.interval=300ms",
      "-D",
      "restart-strategy.type=fixed-delay",
      "-D",
      "restart-strategy.fixed-delay.attempts=10",
      "-D",
      "restart-strategy.fixed-delay.delay=200ms",
      "--",
      "--query",
      query,
      "--events",
      String(events),
      "--rate",
      String(rate),
      "--output",
      out,
    ],
    { natsUrl: cluster.natsUrl, prefix: cluster.prefix },
  );
  const expected = nexmarkReference(
    query,
    Array.from({ length: events }, (_, n) => nexmarkEvent(n, { ...DEFAULT_CONFIG, eventsPerSecond: rate })),
  );
  try {
    const jobId = /Job (\S+) submitted/.exec(await run.waitForLine(/Job \S+ submitted/, 60_000))![1]!;
    // Mid-way by construction: a checkpoint completed and some of the answer committed, not all of it.
    await waitForJob(cluster.dispatcher, jobId, (d) => d.state === "RUNNING" && d.checkpoints.completed > 0, 60_000, "a checkpoint");
    const committed = await waitFor(
      async () => {
        const n = committedLines(out).length;
        return n > 0 ? n : undefined;
      },
      120_000,
      "committed output",
      50,
    );
    const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
    // Every subtask, the generator's too: the input is still being read when the worker is killed.
    assert.ok(allRunning(d), `the job and every subtask still run when the worker is killed: ${subtaskStates(d)}`);
    assert.ok(committed < expected.length, `${committed} of ${expected.length} lines committed before the kill`);
    const victim = d.vertices.find((v) => v.id === victimVertex)?.subtasks[0]?.taskExecutor;
    assert.ok(victim, `vertex ${victimVertex} among ${d.vertices.map((v) => v.id).join(", ")}`);
    const used = new Set(d.vertices.flatMap((v) => v.subtasks.map((s) => s.taskExecutor)));
    const live = (await cluster.dispatcher.ask<ClusterInfo>("clusterInfo")).taskExecutors.filter((t) => pidAlive(t.pid));
    const spare = live.map((t) => t.id).find((id) => !used.has(id));
    assert.ok(spare, "an idle TaskExecutor to recover on");
    await killTaskExecutor(cluster, victim);
    const exit = await run.waitForExit(180_000);
    assert.equal(exit.code, 0, run.stderr);
    const after = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
    const restarted = after.vertices.flatMap((v) => v.subtasks).filter((s) => s.attempt > 0);
    assert.ok(restarted.length > 0, "tasks were restarted");
    assert.ok(
      restarted.some((s) => s.taskExecutor === spare),
      "some restarted on the spare TaskExecutor",
    );
    assert.ok(after.checkpoints.completed > d.checkpoints.completed, "checkpoints went on after the restore");
  } finally {
    run.kill();
  }
  assert.deepEqual(committedLines(out).sort(), expected);
}

// The source is paced (event time passes as fast as the wall clock) and the kill follows the first
// committed window, which ends 2 s (q5) or 10 s (q8) into the input: the input lasts 6 s (q5) or 4 s
// (q8) longer, over three times the 1.3 s seen at most between that window's end and the kill.

test("q5 (sliding windows, top auctions per window) survives a SIGKILLed TaskExecutor with exactly the reference answer", async () => {
  await survivesKill("q5", 80_000, 10_000, "q5-hot-items");
});

test("q8 (a window coGroup of persons and auctions) survives a SIGKILLed TaskExecutor with exactly the reference answer", async () => {
  // The first test left two live workers: one more, idle, to recover on.
  await cluster.addTaskExecutor(1);
  await survivesKill("q8", 140_000, 10_000, "q8-new-users");
});
