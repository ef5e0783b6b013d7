/**
 * The HA checkpoint stores on a three-server NATS cluster keep every key and object through a
 * replica's recovery. A server of the cluster replays its streams' Raft logs when it starts again;
 * nats-server up to 2.9.17 replays a filtered purge as "drop everything up to the purge", so a store
 * that deletes by filtered purge leaves that replica without keys and objects the others still have.
 * Here job A's latest checkpoint is stored, the deletions Eddy makes run (job A subsumes an older
 * checkpoint, job B ends and removes everything), a follower of both streams is SIGKILLed and
 * restarted, made the streams' leader, and job A's latest checkpoint and its state must read back.
 * The streams are created by this test and hold well under 8 MB, so the restarted server replays every
 * entry since their creation (nats-server 2.9 snapshots a stream's Raft log at 8 MB, 65,536 entries or
 * every 2 minutes): with deletions by filtered purge this test fails on 2.9.10.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { silentLogger } from "../../src/core/logger.js";
import {
  CheckpointIdCounter,
  CheckpointStorage,
  CompletedCheckpointStore,
  checkpointObjectName,
  type CompletedCheckpoint,
} from "../../src/checkpoint/index.js";
import { startTestNatsCluster, type TestNatsCluster } from "../helpers/nats-cluster.js";
import { randomBytesOf } from "../helpers/random-bytes.js";

const SERVERS = ["n1", "n2", "n3"];
const log = silentLogger();

let nats: TestNatsCluster | undefined;
const conns: NatsConnection[] = [];
after(async () => {
  for (const c of conns) await c.close().catch(() => undefined);
  await nats?.stop();
});

/** Writes one state object for checkpoint `id` of `jobId` and answers its metadata. */
async function checkpoint(storage: CheckpointStorage, jobId: string, id: number, bytes: Uint8Array): Promise<CompletedCheckpoint> {
  const h = await storage.write(checkpointObjectName(jobId, id, "sum", 0, "keyed"), bytes);
  return {
    jobId,
    checkpointId: id,
    kind: "CHECKPOINT",
    timestamp: 1000 * id,
    completedAt: 1000 * id + 5,
    formatVersion: 1,
    vertices: {
      sum: {
        parallelism: 1,
        maxParallelism: 128,
        subtasks: [{ operators: { sum: { keyed: { ...h, keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128 } } } }],
      },
    },
    bytes: h.bytes,
  };
}

/** Polls `cond` every 200 ms until it holds; fails naming `what` after `ms`. */
async function until(what: string, ms: number, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond().catch(() => false)) return;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The stream's leader, and whether every replica is current. */
async function clusterOf(jsm: JetStreamManager, stream: string): Promise<{ leader?: string; allCurrent: boolean }> {
  const c = (await jsm.streams.info(stream)).cluster;
  const replicas = c?.replicas ?? [];
  return { leader: c?.leader, allCurrent: replicas.length === SERVERS.length - 1 && replicas.every((r) => r.current && !r.offline) };
}

/** Asks the stream's leader to step down until `server` leads it. */
async function makeLeader(nc: NatsConnection, jsm: JetStreamManager, stream: string, server: string): Promise<void> {
  await until(`${server} leads ${stream}`, 60_000, async () => {
    const { leader } = await clusterOf(jsm, stream);
    if (leader === server) return true;
    await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { timeout: 5_000 }).catch(() => undefined);
    await until(`${stream} elects a leader`, 30_000, async () => (await clusterOf(jsm, stream)).leader !== undefined);
    return (await clusterOf(jsm, stream)).leader === server;
  });
}

test("a follower that recovers its streams after the stores' deletions, made leader, still has the latest checkpoint and its state", async () => {
  nats = await startTestNatsCluster(3);
  const subjects = new Subjects("eddy-test-replica-recovery");
  const nc = await connectNats(nats.url, "replica-recovery");
  conns.push(nc);
  const jsm = await jetstreamManager(nc);
  const storage = await CheckpointStorage.open(nc, subjects, { chunkBytes: 64 << 10 });
  const kvStream = `KV_${subjects.bucket("checkpoints")}`;
  const objStream = `OBJ_${storage.bucket}`;

  // Job A: checkpoint 1 then 2 (retain 1): 1 is subsumed, its entry, marker and objects deleted.
  const stateA = randomBytesOf(300_000);
  const storeA = await CompletedCheckpointStore.open(nc, subjects, "jobA", { retain: 1, storage, logger: log });
  const counterA = await CheckpointIdCounter.open(nc, subjects, "jobA");
  for (const id of [await counterA.getAndIncrement(), await counterA.getAndIncrement()])
    await storeA.add(await checkpoint(storage, "jobA", id, stateA), storage);
  await storeA.awaitDiscards();
  assert.deepEqual(await storeA.pendingDiscards(), [], "job A's subsumed checkpoint is discarded");
  assert.deepEqual(
    (await storage.list("jobA/")).map((o) => o.name),
    [checkpointObjectName("jobA", 2, "sum", 0, "keyed")],
  );

  // Job B: two checkpoints, then it ends: everything of it is removed.
  const storeB = await CompletedCheckpointStore.open(nc, subjects, "jobB", { retain: 1, storage, logger: log });
  const counterB = await CheckpointIdCounter.open(nc, subjects, "jobB");
  for (const id of [await counterB.getAndIncrement(), await counterB.getAndIncrement()])
    await storeB.add(await checkpoint(storage, "jobB", id, randomBytesOf(1_000)), storage);
  await storeB.shutdown(true, storage);
  await counterB.remove();
  assert.deepEqual(await storage.list("jobB/"), [], "job B left no object");
  // Job A goes on after the deletions: its counter is written last.
  const next = await counterA.getAndIncrement();
  assert.equal(next, 3);

  // A server that follows both streams (three servers, two leaders: there is one) restarts.
  await until(
    "every replica of both streams is current",
    60_000,
    async () => (await clusterOf(jsm, kvStream)).allCurrent && (await clusterOf(jsm, objStream)).allCurrent,
  );
  const leaders = [(await clusterOf(jsm, kvStream)).leader, (await clusterOf(jsm, objStream)).leader];
  const victim = SERVERS.findIndex((s) => !leaders.includes(s));
  assert.ok(victim >= 0, `a server follows both streams (leaders ${leaders.join(", ")})`);
  const name = SERVERS[victim]!;
  await nats.kill(victim);
  await nats.restart(victim);
  await until(
    `${name} is current again on both streams`,
    60_000,
    async () => (await clusterOf(jsm, kvStream)).allCurrent && (await clusterOf(jsm, objStream)).allCurrent,
  );
  await makeLeader(nc, jsm, kvStream, name);
  await makeLeader(nc, jsm, objStream, name);

  // Read through the recovered replica (every read goes to the stream leader: direct get is off).
  const reopened = await CompletedCheckpointStore.open(nc, subjects, "jobA", { retain: 1, logger: log });
  const latest = await reopened.latest();
  assert.equal(latest?.checkpointId, 2, "job A's latest checkpoint is found");
  const handle = latest.vertices.sum!.subtasks[0]!.operators.sum!.keyed!;
  const back = await storage.read(handle);
  assert.equal(Buffer.compare(Buffer.from(back), Buffer.from(stateA)), 0, "job A's state reads back intact");
  assert.equal(await (await CheckpointIdCounter.open(nc, subjects, "jobA")).get(), 4, "job A's counter is there");
  assert.deepEqual(
    (await reopened.all()).map((c) => c.checkpointId),
    [2],
    "job A's subsumed checkpoint stays gone",
  );
  assert.deepEqual(await storage.list("jobB/"), [], "job B's objects stay gone");
});
