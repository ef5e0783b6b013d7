/**
 * A job's checkpoints are deleted when it ends globally terminal, but only by a JobMaster whose
 * JobManager still leads: a former leader's JobMaster can still see its job fail or cancel (its tasks
 * are gone) while the new leader runs the job from these checkpoints.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { silentLogger } from "../../src/core/logger.js";
import { ExecutionGraph } from "../../src/executiongraph/index.js";
import { CheckpointIdCounter, CheckpointStorage, CompletedCheckpointStore, checkpointObjectName } from "../../src/checkpoint/index.js";
import { JobCheckpointing } from "../../actors/jobmaster/job-checkpointing.js";
import { graph } from "../helpers/graphs.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";

let nats: TestNats;
let nc: NatsConnection;
const subjects = new Subjects("eddy-test-cleanup");
const log = silentLogger();

before(async () => {
  nats = await startTestNats({ jetstream: true });
  nc = await connectNats(nats.url, "checkpoint-cleanup");
});
after(async () => {
  await nc.close();
  await nats.stop();
});

/** A checkpointing job's ExecutionGraph with one completed checkpoint (state and metadata) stored. */
async function jobWithCheckpoint(): Promise<{ graph: ExecutionGraph; store: CompletedCheckpointStore }> {
  const g = graph([{ id: "src", parallelism: 1, invokable: "source.sequence", config: { count: 10 } }], []);
  g.config.checkpointing = { intervalMs: 60_000 };
  const storage = await CheckpointStorage.open(nc, subjects);
  const counter = await CheckpointIdCounter.open(nc, subjects, g.jobId);
  const id = await counter.getAndIncrement();
  const handle = await storage.write(checkpointObjectName(g.jobId, id, "src", 0, "operator"), new Uint8Array(16).fill(7));
  const store = await CompletedCheckpointStore.open(nc, subjects, g.jobId, { logger: log });
  await store.add(
    {
      jobId: g.jobId,
      checkpointId: id,
      kind: "CHECKPOINT",
      timestamp: Date.now(),
      completedAt: Date.now(),
      formatVersion: 1,
      vertices: { src: { parallelism: 1, maxParallelism: 128, subtasks: [{ operators: { src: { operator: { ...handle, states: {} } } } }] } },
      bytes: handle.bytes,
    },
    storage,
  );
  return { graph: new ExecutionGraph(g), store };
}

async function endJob(g: ExecutionGraph, leading: boolean): Promise<void> {
  const checkpointing = new JobCheckpointing(nc, subjects, g, "token", log, () => leading);
  await checkpointing.open(
    () => () => undefined,
    () => undefined,
  );
  await checkpointing.jobEnded("FAILED");
}

test("a JobMaster whose JobManager no longer leads keeps the checkpoints of a job that failed under it", async () => {
  const { graph: g, store } = await jobWithCheckpoint();
  await endJob(g, false);
  assert.equal((await store.latest())?.checkpointId, 1, "the latest checkpoint is still there for the new leader");
  assert.equal(await (await CheckpointIdCounter.open(nc, subjects, g.jobId)).get(), 2, "the id counter is kept");
});

test("a leading JobMaster deletes the checkpoints of a job that failed", async () => {
  const { graph: g, store } = await jobWithCheckpoint();
  await endJob(g, true);
  assert.equal(await store.latest(), undefined);
  assert.equal(await (await CheckpointIdCounter.open(nc, subjects, g.jobId)).get(), 1, "the id counter starts over");
});
