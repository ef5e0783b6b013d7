/**
 * The stream API on a real process cluster, end to end: `eddy run` ships the example job files to
 * TaskExecutor processes that never saw them, and the results match the plain-loop references —
 * examples/windowed-events.ts at parallelism 2 (also through a SIGKILLed TaskExecutor, restored from a
 * checkpoint) and examples/nexmark.ts's q5 at parallelism 3. (The same jobs also run in process in
 * test/unit/stream-examples.test.ts.)
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../src/cluster/paths.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { runEddy, spawnEddy } from "../helpers/eddy-process.js";
import { waitFor } from "../../src/core/time.js";
import { allRunning } from "../helpers/jobs.js";
import { readLines } from "../helpers/stream-env.js";
import { windowedEventsBareLoop } from "../helpers/windowed-events-reference.js";
import { committedLines } from "../helpers/keyed-counter.js";
import { nexmarkReference } from "../helpers/nexmark-reference.js";
import { nexmarkEvent } from "../../examples/nexmark/generator.js";
import type { ClusterInfo, JobDetails } from "../../schemas/dispatcher-api.js";

let cluster: ProcessCluster;
let work: string;
before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-stream-cluster-"));
  cluster = await startProcessCluster({ taskExecutors: 3, slots: 2 });
});
after(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const example = (f: string) => join(packageRoot(), "examples", f);

test("windowed-events via eddy run at parallelism 2: the plain loop's windows and late clicks", async () => {
  const out = join(work, "windowed");
  const r = await runEddy(["run", example("windowed-events.ts"), "--parallelism", "2", "--", "--events", "20000", "--output", out], {
    natsUrl: cluster.natsUrl,
    prefix: cluster.prefix,
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stderr);
  const ref = windowedEventsBareLoop(20_000, 50);
  assert.deepEqual(readLines(join(out, "windows.txt")), ref.windows);
  assert.deepEqual(readLines(join(out, "late.txt")), ref.late);
});

test("nexmark q5 via eddy run at parallelism 3 gives the reference's hot items", async () => {
  const out = join(work, "q5");
  const events = 30_000;
  const r = await runEddy(["run", example("nexmark.ts"), "--parallelism", "3", "--", "--query", "q5", "--events", String(events), "--output", out], {
    natsUrl: cluster.natsUrl,
    prefix: cluster.prefix,
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stderr);
  const expected = nexmarkReference(
    "q5",
    Array.from({ length: events }, (_, n) => nexmarkEvent(n)),
  );
  assert.ok(expected.length > 5);
  assert.deepEqual(committedLines(out).sort(), expected);
});

test("windowed-events survives a SIGKILLed TaskExecutor: restored from its checkpoint, the same files", async () => {
  const out = join(work, "failover");
  // 3.3 s of input at 3,000 clicks/s: the kill comes once two checkpoints completed, under 0.7 s in
  // (also with one core busy).
  const events = 10_000;
  const run = spawnEddy(
    [
      "run",
      example("windowed-events.ts"),
      "--parallelism",
      "2",
      "--",
      "--events",
      String(events),
      "--rate",
      "3000",
      "--checkpoint-interval",
      "300",
      "--output",
      out,
    ],
    { natsUrl: cluster.natsUrl, prefix: cluster.prefix },
  );
  try {
    const jobId = await waitFor(
      async () => {
        const jobs = await cluster.dispatcher.ask<Array<{ id: string; name: string; state: string }>>("listJobs", {}).catch(() => []);
        return jobs.find((j) => j.name === "WindowedEvents" && j.state === "RUNNING")?.id;
      },
      60_000,
      "the job running",
      100,
    );
    await waitFor(
      async () => ((await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId })).checkpoints.completed >= 2 ? true : undefined),
      60_000,
      "two checkpoints",
      100,
    );
    const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
    // Every subtask, the source's too: the clicks are still being read when the worker is killed.
    assert.ok(allRunning(d), `every subtask runs at the kill: ${d.vertices.map((v) => `${v.name}: ${v.subtasks.map((x) => x.state).join(",")}`).join("; ")}`);
    const teId = d.vertices.find((v) => v.name.includes("Window"))!.subtasks[0]!.taskExecutor!;
    const info = await cluster.dispatcher.ask<ClusterInfo>("clusterInfo");
    const victim = cluster.taskExecutors.find((p) => p.pid === info.taskExecutors.find((t) => t.id === teId)?.pid);
    assert.ok(victim, "a worker running the windows is one of ours");
    victim.kill();
    const exit = await run.waitForExit(180_000);
    assert.equal(exit.code, 0, run.stderr);
    const after = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
    assert.ok(
      after.vertices.some((v) => v.subtasks.some((s) => s.attempt > 0)),
      "tasks were restarted",
    );
  } finally {
    run.kill();
  }
  const ref = windowedEventsBareLoop(events, 50);
  assert.deepEqual(readLines(join(out, "windows.txt")), ref.windows);
  assert.deepEqual(readLines(join(out, "late.txt")), ref.late);
});
