/**
 * A leading JobManager frozen (SIGSTOP) past its lease and woken (SIGCONT) after a standby took over
 * is a zombie leader: its JobMaster still holds checkpoints in progress, acknowledgements queued on its
 * connection and timers that fire at once. Nothing it writes may count: not a checkpoint record (the
 * latest pointer never moves back), not a job result, not a deployment.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import { decode } from "../../src/codec/codec.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { waitFor } from "../../src/core/time.js";
import type { LeaderInfo } from "../../src/ha/leader-retrieval.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { pidAlive } from "../helpers/eddy-process.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { assertExactlyOnce, keyedCounterJob } from "../helpers/keyed-counter.js";

const LEASE_MS = 2_000;
const work = mkdtempSync(join(tmpdir(), "eddy-zombie-jm-"));
let cluster: ProcessCluster | undefined;
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

test("a leader frozen past its lease and woken writes nothing that counts: pointer forward, one result, output exactly once", async () => {
  const c = await startProcessCluster({ taskExecutors: 2, slots: 2, jobManagers: 2, env: { EDDY_LEASE_MS: String(LEASE_MS) } });
  cluster = c;
  const subjects = new Subjects(c.prefix);
  const leaders = await new Kvm(c.nc).open(subjects.bucket("leaders"));
  const checkpoints = await new Kvm(c.nc).open(subjects.bucket("checkpoints"));
  const leaderOf = async (key: string) => {
    const e = await leaders.get(key);
    return e && e.operation === "PUT" && e.value.length ? (decode(e.value) as LeaderInfo) : undefined;
  };
  const events = 30_000;
  const keys = 5;
  const out = join(work, "out");
  const spec = await keyedCounterJob({ events, keys, rate: 2_000, intervalMs: 100, output: out });
  const { jobId } = await c.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  await waitForJob(c.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed >= 2, 30_000, "running with two checkpoints");
  const oldJm = (await leaderOf(`jobmaster.${jobId}`))!;
  const zombie = c.jobManagers.find((p) => p.pid === oldJm.pid)!;
  assert.ok(zombie, "the leader's process is known");

  // Every value the pointer to the latest checkpoint takes from now on.
  const pointers: number[] = [];
  const watch = await checkpoints.watch({ key: `${jobId}.latest` });
  void (async () => {
    for await (const e of watch) if (e.operation === "PUT" && e.value.length) pointers.push(decode(e.value) as number);
  })();

  zombie.signal("SIGSTOP");
  try {
    const newJm = await waitFor(
      async () => {
        const l = await leaderOf(`jobmaster.${jobId}`);
        return l && l.sessionId !== oldJm.sessionId ? l : undefined;
      },
      30_000,
      "a new JobMaster for the job",
      50,
    );
    assert.notEqual(newJm.pid, oldJm.pid, "the standby leads the job");
    const restored = await waitForJob(c.dispatcher, jobId, allRunning, 30_000, "RUNNING under the new leader");
    await waitForJob(c.dispatcher, jobId, (d) => d.checkpoints.completed > restored.checkpoints.completed, 30_000, "a checkpoint under the new leader");
  } finally {
    zombie.signal("SIGCONT");
  }

  const result = await awaitJobResult(c.dispatcher, jobId, 120_000, { acrossFailover: true });
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assertExactlyOnce(out, events, keys);
  watch.stop();
  for (let i = 1; i < pointers.length; i++) assert.ok(pointers[i]! > pointers[i - 1]!, `the latest pointer only moves forward: ${pointers.join(", ")}`);
  const d = await c.dispatcher.ask<JobDetails>("requestJob", { jobId });
  assert.equal(d.state, "FINISHED", "the job's recorded state is the new leader's");
  assert.ok(pidAlive(zombie.pid), "the woken JobManager lives on as a standby");
});
