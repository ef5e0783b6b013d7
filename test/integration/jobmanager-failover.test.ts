/**
 * High availability of the JobManager: a standby takes over when the leader is SIGKILLed, recovers
 * the running job from its latest checkpoint, the output stays exactly once, and nothing from the
 * dead leader's sessions is accepted any more.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { headers as natsHeaders, type Msg } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { decode, encode } from "../../src/codec/codec.js";
import { Header } from "../../src/rpc/headers.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { waitFor } from "../../src/core/time.js";
import type { LeaderInfo } from "../../src/ha/leader-retrieval.js";
import type { ClusterInfo, JobDetails } from "../../schemas/dispatcher-api.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { assertExactlyOnce, committedLines, keyedCounterJob } from "../helpers/keyed-counter.js";

const LEASE_MS = 2_000;
const work = mkdtempSync(join(tmpdir(), "eddy-ha-"));
const clusters: ProcessCluster[] = [];
after(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
  rmSync(work, { recursive: true, force: true });
});

async function leaderInfo(c: ProcessCluster, key: string): Promise<LeaderInfo | undefined> {
  const kv = await new Kvm(c.nc).open(new Subjects(c.prefix).bucket("leaders"));
  const e = await kv.get(key);
  return e && e.operation === "PUT" && e.value.length ? (decode(e.value) as LeaderInfo) : undefined;
}

/** A raw request with a fencing token; resolves with the error code of the refusal, or "accepted". */
async function fencedRequest(c: ProcessCluster, subject: string, body: Uint8Array, token: string): Promise<string> {
  const h = natsHeaders();
  h.set(Header.Fence, token);
  const m = await c.nc.request(subject, body, { timeout: 5_000, headers: h });
  const reply = decode(m.data) as { error?: { code: string } };
  return reply?.error?.code ?? "accepted";
}

test("a standby JobManager takes over a SIGKILLed leader's keyed-counter: restored from the checkpoint, exactly once, the dead sessions refused", async () => {
  const c = await startProcessCluster({ taskExecutors: 2, slots: 2, jobManagers: 2, env: { EDDY_LEASE_MS: String(LEASE_MS) } });
  clusters.push(c);
  const subjects = new Subjects(c.prefix);
  // Everything the old leader's JobMaster sends to the TaskExecutors, to replay it later.
  const sent: Array<{ method: string; data: Uint8Array; token: string; subject: string }> = [];
  const snoop = c.nc.subscribe(`${c.prefix}.te.*.*`, {
    callback: (_e, m: Msg) => {
      const method = m.subject.slice(m.subject.lastIndexOf(".") + 1);
      if (method === "submitTask" || method === "requestSlot")
        sent.push({ method, data: m.data, token: m.headers?.get(Header.Fence) ?? "", subject: m.subject });
    },
  });
  const events = 12_000;
  const keys = 5;
  const out = join(work, "out-failover");
  const spec = await keyedCounterJob({ events, keys, rate: 3_000, intervalMs: 200, output: out });
  const { jobId } = await c.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  await waitForJob(c.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed >= 2, 30_000, "running with two checkpoints");
  await waitFor(async () => committedLines(out).length > 0 || undefined, 10_000, "committed output before the kill");
  const oldJm = (await leaderInfo(c, `jobmaster.${jobId}`))!;
  const oldDispatcher = (await leaderInfo(c, "dispatcher"))!;
  assert.ok(oldJm && oldDispatcher, "the leader published its Dispatcher and the job's JobMaster");
  assert.equal(oldDispatcher.pid, c.jobManagers[0]!.pid, "the first JobManager leads");
  const oldDeploys = sent.filter((m) => m.method === "submitTask" && m.token === oldJm.sessionId);
  assert.ok(oldDeploys.length > 0, "the old JobMaster's deployments were seen");
  const linesBefore = committedLines(out).length;

  const killedAt = Date.now();
  c.jobManagers[0]!.kill();
  await c.jobManagers[0]!.waitForExit(10_000);
  // The standby leads once the lease lapses, and the job runs again under its new JobMaster.
  const newJm = await waitFor(
    async () => {
      const l = await leaderInfo(c, `jobmaster.${jobId}`);
      return l && l.sessionId !== oldJm.sessionId ? l : undefined;
    },
    30_000,
    "a new JobMaster for the job",
    50,
  );
  await waitForJob(c.dispatcher, jobId, allRunning, 30_000, "RUNNING under the new leader");
  const recoveredMs = Date.now() - killedAt;
  assert.equal(newJm.pid, c.jobManagers[1]!.pid, "the standby runs the job now");
  const info = await c.dispatcher.ask<ClusterInfo>("clusterInfo");
  assert.equal(info.leaders.dispatcher?.pid, c.jobManagers[1]!.pid, "the standby's Dispatcher answers");
  assert.equal(info.taskExecutors.length, 2, "both TaskExecutors re-registered with the new ResourceManager");

  // Nothing from the dead leader's sessions is accepted: not its deployments (replayed as they were,
  // or aimed at a slot of the new term), not its acknowledgements.
  for (const d of oldDeploys.slice(0, 3)) {
    const code = await fencedRequest(c, d.subject, d.data, d.token);
    assert.ok(code === "SlotNotFound" || code === "FencingTokenMismatch", `an old deployment replayed is refused (${code})`);
  }
  const newSlot = sent.find((m) => m.method === "requestSlot" && (decode(m.data) as { jobMasterToken: string }).jobMasterToken === newJm.sessionId);
  assert.ok(newSlot, "the new JobMaster's slot requests were seen");
  const alloc = decode(newSlot.data) as { allocationId: string };
  const replay = { ...(decode(oldDeploys[0]!.data) as Record<string, unknown>), allocationId: alloc.allocationId };
  assert.equal(
    await fencedRequest(c, newSlot.subject.replace(/requestSlot$/, "submitTask"), encode(replay), oldJm.sessionId),
    "FencingTokenMismatch",
    "a deployment with the old session into a new slot is refused",
  );
  const ack = encode({ attemptId: "0".repeat(32), checkpointId: 1, snapshot: { operators: {} } });
  assert.equal(
    await fencedRequest(c, `${subjects.jobMaster(jobId)}.acknowledgeCheckpoint`, ack, oldJm.sessionId),
    "FencingTokenMismatch",
    "an acknowledgement for the old session is refused",
  );
  snoop.unsubscribe();

  const result = await awaitJobResult(c.dispatcher, jobId, 120_000, { acrossFailover: true });
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assertExactlyOnce(out, events, keys);
  const d = await c.dispatcher.ask<JobDetails>("requestJob", { jobId });
  assert.ok(d.checkpoints.completed >= 1, "the recovered job checkpoints under the new leader");
  console.log(`# JobManager failover: SIGKILL to RUNNING again in ${recoveredMs} ms (lease ${LEASE_MS} ms); ${linesBefore} lines committed before the kill`);
});

test("a whole-cluster restart resumes the unfinished job from its checkpoint and does not run the finished one again", async () => {
  const c = await startProcessCluster({ taskExecutors: 2, slots: 2, env: { EDDY_LEASE_MS: String(LEASE_MS) } });
  clusters.push(c);
  const doneOut = join(work, "out-done");
  const done = await c.dispatcher.ask<{ jobId: string }>(
    "submitJob",
    await keyedCounterJob({ events: 300, keys: 3, rate: 0, intervalMs: 100, output: doneOut }),
  );
  assert.equal((await awaitJobResult(c.dispatcher, done.jobId, 60_000)).state, "FINISHED");
  const doneFiles = readdirSync(doneOut).sort();
  assertExactlyOnce(doneOut, 300, 3);

  const events = 10_000;
  const keys = 4;
  const out = join(work, "out-restart");
  const { jobId } = await c.dispatcher.ask<{ jobId: string }>("submitJob", await keyedCounterJob({ events, keys, rate: 2_500, intervalMs: 200, output: out }));
  await waitForJob(c.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed >= 2, 30_000, "running with two checkpoints");
  await waitFor(async () => committedLines(out).length > 0 || undefined, 10_000, "committed output before the stop");

  // Every Eddy process stops (SIGTERM, as an operator would), then all start again.
  const all = [...c.jobManagers, ...c.taskExecutors];
  const exits = await Promise.all(all.map((p) => p.stop(30_000)));
  assert.ok(
    exits.every((e) => e.code === 0),
    `every process exits cleanly: ${JSON.stringify(exits)}`,
  );
  const linesAtStop = committedLines(out).length;
  assert.ok(linesAtStop < events, "the job was stopped before its end");
  c.addJobManager();
  await c.addTaskExecutor(2);
  await c.addTaskExecutor(2);

  const result = await awaitJobResult(c.dispatcher, jobId, 120_000, { acrossFailover: true });
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assertExactlyOnce(out, events, keys);
  // The finished job is known with its result and was not run again.
  assert.equal((await awaitJobResult(c.dispatcher, done.jobId, 10_000)).state, "FINISHED");
  const jobs = await c.dispatcher.ask<Array<{ id: string; state: string }>>("listJobs", {});
  assert.deepEqual(
    jobs.map((j) => [j.id, j.state]).sort(),
    [
      [done.jobId, "FINISHED"],
      [jobId, "FINISHED"],
    ].sort(),
  );
  assert.deepEqual(readdirSync(doneOut).sort(), doneFiles, "the finished job's output is untouched");
  assertExactlyOnce(doneOut, 300, 3);
});
