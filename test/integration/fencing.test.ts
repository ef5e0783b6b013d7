/**
 * Fencing across the cluster: a TaskExecutor, the ResourceManager and a JobMaster each refuse calls
 * that lack the session token they expect, and the refused calls change nothing: jobs keep running
 * and the TaskExecutor keeps running jobs.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import type { Subscription } from "@nats-io/transport-node";
import { decode } from "../../src/codec/codec.js";
import { newId } from "../../src/core/ids.js";
import {
  awaitResult,
  rawRequest,
  runToCompletion,
  sequenceJob,
  startInProcessCluster,
  waitUntilRunning,
  type ClusterInfo,
  type InProcessCluster,
} from "../helpers/in-process-cluster.js";

interface Sniffed {
  subject: string;
  token: string | undefined;
  body: any;
}

let c: InProcessCluster;
let teId: string;
const seen: Sniffed[] = [];
const subs: Subscription[] = [];

before(async () => {
  c = await startInProcessCluster({ taskExecutors: 1, slots: 2 });
  teId = (await c.dispatcher.ask<ClusterInfo>("clusterInfo", {})).taskExecutors[0]!.id;
  // Listen in (plain subscriptions never answer) on the control traffic, to learn real ids.
  for (const s of [`${c.prefix}.te.*.requestSlot`, `${c.prefix}.te.*.submitTask`, `${c.prefix}.jm.*.offerSlots`]) {
    subs.push(
      c.nc.subscribe(s, {
        callback: (_e, m) => void seen.push({ subject: m.subject, token: m.headers?.get("Eddy-Fence") || undefined, body: decode(m.data) }),
      }),
    );
  }
  await c.nc.flush();
});
after(async () => {
  for (const s of subs) s.unsubscribe();
  await c?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const te = (method: string) => `${c.prefix}.te.${teId}.${method}`;

/** Sends `body` with `token` (or none) and expects a refusal with `code` whose message matches. */
async function refused(subject: string, body: unknown, token: string | undefined, code: string, message: RegExp): Promise<void> {
  const r = await rawRequest(c.nc, subject, body, token ? { token } : {});
  assert.equal(r.isError, true, `${subject} with token ${token ?? "(none)"} was accepted: ${JSON.stringify(r.value)}`);
  assert.equal(r.value.error.code, code, `${subject}: ${r.value.error.message}`);
  assert.match(r.value.error.message, message);
}

/** A well-formed TaskDeploymentDescriptor for `allocationId`. */
function tdd(jobId: string, allocationId: string) {
  return {
    jobId,
    jobName: "forged",
    vertexId: "src",
    vertexName: "src",
    attemptId: newId(),
    attemptNumber: 0,
    subtaskIndex: 0,
    parallelism: 1,
    maxParallelism: 128,
    invokable: "source.sequence",
    config: { from: 0, to: 10 },
    allocationId,
    bufferTimeoutMs: 100,
    bufferRecords: 1024,
    outputs: [],
    inputs: [],
  };
}

/** The job's subtasks as [vertex, index, state, attempt, taskExecutor]. */
async function subtasks(jobId: string) {
  const d = await c.dispatcher.ask<any>("requestJob", { jobId });
  return {
    state: d.state as string,
    subtasks: d.vertices.flatMap((v: any) => v.subtasks.map((s: any) => [v.id, s.index, s.state, s.attempt, s.taskExecutor])),
  };
}

async function leaderSession(component: string): Promise<string> {
  const kv = await new Kvm(c.nc).open(`${c.prefix}_leaders`);
  const e = await kv.get(component);
  assert.ok(e && e.value.length > 0, `leaders bucket holds ${component}`);
  const { sessionId } = decode(e.value) as { sessionId: string };
  assert.match(sessionId, /^[0-9a-f-]{36}$/);
  return sessionId;
}

test("a TaskExecutor refuses requestSlot without the ResourceManager's session and allocates nothing", async () => {
  const fakeJob = newId();
  const body = { slotIndex: 0, allocationId: newId(), jobId: fakeJob, jobMasterToken: randomUUID() };
  await refused(te("requestSlot"), body, undefined, "FencingTokenMismatch", /carries no fencing token/);
  await refused(te("requestSlot"), body, randomUUID(), "FencingTokenMismatch", /does not match the current session/);
  await refused(te("requestSlot"), body, await leaderSession("dispatcher"), "FencingTokenMismatch", /does not match the current session/);
  await sleep(300);
  assert.deepEqual(
    seen.filter((s) => s.subject.includes(fakeJob)),
    [],
    "the TaskExecutor offered a slot to the forged job",
  );
});

test("a TaskExecutor refuses submitTask, cancelTask and freeSlot from strangers; the job's tasks keep running", async () => {
  const jobId = newId();
  await c.dispatcher.ask("submitJob", sequenceJob("long-a", 1e12, 1, jobId));
  await waitUntilRunning(c.dispatcher, jobId);
  const running = await subtasks(jobId);
  const offer = seen.find((s) => s.subject === `${c.prefix}.jm.${jobId}.offerSlots`);
  assert.ok(offer, "the slot offer to the job was seen");
  const allocationId: string = offer.body.slots[0].allocationId;
  const attempts = seen.filter((s) => s.subject.endsWith(".submitTask") && s.body.jobId === jobId).map((s) => s.body.attemptId as string);
  assert.equal(attempts.length, 2);

  // Ids this TaskExecutor does not know.
  await refused(te("submitTask"), tdd(jobId, newId()), randomUUID(), "SlotNotFound", /has no slot allocation/);
  await refused(te("freeSlot"), { allocationId: newId() }, undefined, "SlotNotFound", /has no slot allocation/);
  await refused(te("cancelTask"), { attemptId: newId() }, randomUUID(), "TaskNotFound", /no task/);
  // The job's real slot and tasks, without the JobMaster's session.
  for (const token of [undefined, randomUUID()]) {
    const why = token ? /does not match the current session/ : /carries no fencing token/;
    await refused(te("submitTask"), tdd(jobId, allocationId), token, "FencingTokenMismatch", why);
    await refused(te("freeSlot"), { allocationId }, token, "FencingTokenMismatch", why);
    for (const attemptId of attempts) await refused(te("cancelTask"), { attemptId }, token, "FencingTokenMismatch", why);
  }
  await sleep(500);
  assert.deepEqual(await subtasks(jobId), running, "the refused calls changed the job");
  assert.deepEqual(running.subtasks, [
    ["src", 0, "RUNNING", 0, teId],
    ["sink", 0, "RUNNING", 0, teId],
  ]);
  assert.deepEqual(await c.dispatcher.ask("cancelJob", { jobId }), { ok: true });
  assert.equal((await awaitResult(c.dispatcher, jobId, 15_000)).state, "CANCELED");
});

test("the ResourceManager refuses a wrong fencing token, and with the right one a malformed body", async () => {
  const session = await leaderSession("resourcemanager");
  const rm = `${c.prefix}.rm.declareRequiredResources`;
  const fakeJob = newId();
  const body = { jobId: fakeJob, jobMasterToken: randomUUID(), slots: 2 };
  await refused(rm, body, undefined, "FencingTokenMismatch", /carries no fencing token/);
  await refused(rm, body, randomUUID(), "FencingTokenMismatch", /stale fencing token/);
  await refused(rm, body, await leaderSession("dispatcher"), "FencingTokenMismatch", /stale fencing token/);
  await refused(rm, { jobId: "not-an-id", jobMasterToken: "x", slots: 2 }, session, "MalformedRequest", /jobId: must match/);
  await refused(rm, { jobId: fakeJob, jobMasterToken: "x", slots: -1 }, session, "MalformedRequest", /slots: must be at least 0/);
  await refused(rm, Uint8Array.from([0x92, 0x01]), session, "MalformedRequest", /not valid MessagePack/);
  await sleep(300);
  assert.deepEqual(
    seen.filter((s) => s.body?.jobId === fakeJob),
    [],
    "the ResourceManager requested slots for the forged job",
  );
  const info = await c.dispatcher.ask<ClusterInfo>("clusterInfo", {});
  assert.deepEqual(
    info.taskExecutors.map((t) => [t.id, t.slots, t.freeSlots]),
    [[teId, 2, 2]],
  );
});

test("a JobMaster refuses updateTaskExecutionState, offerSlots and disconnectTaskManager without its token; the job keeps RUNNING and cancels to CANCELED", async () => {
  const jobId = newId();
  await c.dispatcher.ask("submitJob", sequenceJob("long-b", 1e12, 1, jobId));
  await waitUntilRunning(c.dispatcher, jobId);
  const running = await subtasks(jobId);
  const jm = (m: string) => `${c.prefix}.jm.${jobId}.${m}`;
  const mine = seen.filter((s) => s.subject.endsWith(".submitTask") && s.body.jobId === jobId);
  assert.equal(mine.length, 2);
  // A token that was real once: the JobMaster session of the job canceled in the previous test.
  const stale = seen.find((s) => s.subject.endsWith(".submitTask") && s.body.jobName === "long-a")?.token;
  assert.ok(stale && stale !== mine[0]!.token, "a stale JobMaster session was seen");
  const forgedFailure = { attemptId: mine[0]!.body.attemptId, state: "FAILED", failure: { code: "TaskFailed", name: "Error", message: "forged" } };
  for (const token of [undefined, randomUUID(), stale, await leaderSession("resourcemanager")]) {
    const why = token ? /stale fencing token/ : /carries no fencing token/;
    await refused(jm("updateTaskExecutionState"), forgedFailure, token, "FencingTokenMismatch", why);
    await refused(jm("offerSlots"), { taskExecutorId: teId, slots: [{ allocationId: newId(), slotIndex: 1 }] }, token, "FencingTokenMismatch", why);
    await refused(jm("disconnectTaskManager"), { taskExecutorId: teId, reason: "forged" }, token, "FencingTokenMismatch", why);
  }
  await sleep(300);
  assert.deepEqual(await subtasks(jobId), running, "the refused calls changed the job");
  assert.equal(running.state, "RUNNING");
  assert.deepEqual(await c.dispatcher.ask("cancelJob", { jobId }), { ok: true });
  const result = await awaitResult(c.dispatcher, jobId, 15_000);
  assert.equal(result.state, "CANCELED");
  assert.equal((await c.dispatcher.ask<any>("requestJob", { jobId })).state, "CANCELED");
});

test("after every refusal the TaskExecutor still runs a job on both its slots to FINISHED", async () => {
  const r = await runToCompletion(c.dispatcher, sequenceJob("after-fencing", 19_999, 2), 20_000);
  assert.equal(r.state, "FINISHED");
  assert.equal(r.accumulators["src.records-out"], 20_000);
  assert.equal(r.accumulators.records, 20_000);
});
