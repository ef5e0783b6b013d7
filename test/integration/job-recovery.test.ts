/**
 * What a new leading JobManager finds in the HA stores: a job with a recorded (dirty) result is only
 * cleaned up and never runs again, a JobGraph without a result is recovered and runs, and BLOCKING
 * partition streams of jobs nobody knows are swept.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectNats } from "../../src/rpc/nats.js";
import { Gateway } from "../../src/rpc/gateway.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { silentLogger } from "../../src/core/logger.js";
import { newId } from "../../src/core/ids.js";
import { validateJobGraph } from "../../src/jobgraph/index.js";
import { ExecutionPlanStore } from "../../src/ha/execution-plan-store.js";
import { JobResultStore } from "../../src/ha/job-result-store.js";
import { ensureBlockingStream } from "../../src/network/index.js";
import { startJobManager, type JobManagerHandle } from "../../src/entrypoints/jobmanager.js";
import { startTaskExecutor, type TaskExecutorHandle } from "../../src/entrypoints/taskexecutor.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { sequenceJob, uniquePrefix } from "../helpers/in-process-cluster.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";

let nats: TestNats;
let nc: NatsConnection;
const prefix = uniquePrefix();
const subjects = new Subjects(prefix);
let jm: JobManagerHandle | undefined;
let te: TaskExecutorHandle | undefined;

before(async () => {
  nats = await startTestNats({ jetstream: true });
  nc = await connectNats(nats.url, "job-recovery-test");
});
after(async () => {
  await te?.stop();
  await jm?.stop();
  await nc.close();
  await nats.stop();
});

test("a new leader cleans up a job with a recorded result without running it, recovers the unfinished one, and sweeps unknown BLOCKING streams", async () => {
  const plans = await ExecutionPlanStore.open(nc, subjects.bucket("jobgraphs"));
  const results = await JobResultStore.open(nc, subjects.bucket("jobresults"));
  // As an earlier leader left them: one finished job (result recorded dirty, JobGraph not yet removed,
  // a BLOCKING stream left), one unfinished job, and a stream of a job no store knows.
  const finished = validateJobGraph(sequenceJob("finished-before", 10, 1, newId()), builtinRegistry);
  const unfinished = validateJobGraph(sequenceJob("unfinished", 1000, 1, newId()), builtinRegistry);
  const unknownJob = newId();
  await plans.put(finished);
  await plans.put(unfinished);
  await results.createDirty({
    jobId: finished.jobId,
    name: finished.name,
    state: "FINISHED",
    startTime: 1,
    endTime: 2,
    netRuntimeMs: 1,
    accumulators: {},
    failure: null,
  });
  const jsm = await jetstreamManager(nc);
  await ensureBlockingStream(jsm, subjects, finished.jobId);
  await ensureBlockingStream(jsm, subjects, unknownJob);

  jm = await startJobManager({ natsUrl: nats.url, prefix, log: silentLogger(), leaseMs: 2_000 });
  await jm.leading;
  te = await startTaskExecutor({ natsUrl: nats.url, prefix, slots: 2, log: silentLogger() });
  await te.ready;
  const dispatcher = new Gateway(nc, subjects.dispatcher);

  const r = await awaitJobResult(dispatcher, unfinished.jobId, 30_000);
  assert.equal(r.state, "FINISHED", "the unfinished job was recovered and ran to its end");
  const old = await awaitJobResult(dispatcher, finished.jobId, 5_000);
  assert.deepEqual([old.state, old.netRuntimeMs], ["FINISHED", 1], "the finished job's recorded result is served: it did not run again");
  const jobs = await dispatcher.ask<Array<{ id: string; state: string }>>("listJobs", {});
  assert.deepEqual(jobs.map((j) => j.id).sort(), [finished.jobId, unfinished.jobId].sort(), "both jobs are listed, none twice");
  assert.deepEqual(await plans.jobIds(), [], "no JobGraph is left in the ExecutionPlanStore");
  const names: string[] = [];
  for await (const n of jsm.streams.names()) names.push(n);
  assert.ok(!names.includes(subjects.blockingStream(finished.jobId)), "the finished job's BLOCKING stream is removed");
  assert.ok(!names.includes(subjects.blockingStream(unknownJob)), "the unknown job's BLOCKING stream is swept");
});

test("parallelism bounds declared with rescaleJob are kept with the stored JobGraph and hold for the next leader's JobMaster", async () => {
  await te?.stop();
  await jm?.stop();
  const plans = await ExecutionPlanStore.open(nc, subjects.bucket("jobgraphs"));
  const adaptive = { scheduling: { scheduler: "adaptive" as const, adaptive: { resourceStabilizationTimeoutMs: 0, scalingIntervalMinMs: 0 } } };
  jm = await startJobManager({ natsUrl: nats.url, prefix, log: silentLogger(), leaseMs: 2_000, ...adaptive });
  await jm.leading;
  te = await startTaskExecutor({ natsUrl: nats.url, prefix, slots: 4, log: silentLogger() });
  await te.ready;
  const dispatcher = new Gateway(nc, subjects.dispatcher);
  const { jobId } = await dispatcher.ask<{ jobId: string }>("submitJob", sequenceJob("bounded-later", 1e12, 2));
  await waitForJob(dispatcher, jobId, (d) => allRunning(d) && d.vertices.every((v) => v.parallelism === 2), 20_000, "running at 2");
  const reply = await dispatcher.ask<{ min: number; max: number }>("rescaleJob", { jobId, vertexId: "sink", parallelism: 1 });
  assert.deepEqual([reply.min, reply.max], [1, 1]);
  const before = await waitForJob(
    dispatcher,
    jobId,
    (d) => allRunning(d) && d.vertices.find((v) => v.id === "sink")?.parallelism === 1,
    20_000,
    "the sink at 1",
  );
  assert.deepEqual((await plans.get(jobId))?.config.resourceRequirements, { sink: { lower: 1, upper: 1 } }, "the bounds are stored with the JobGraph");

  // A new leader (this JobManager stops; another starts) recovers the job with the declared bounds.
  await jm.stop();
  jm = await startJobManager({ natsUrl: nats.url, prefix, log: silentLogger(), leaseMs: 2_000, ...adaptive });
  await jm.leading;
  const d = await waitForJob(dispatcher, jobId, allRunning, 30_000, "running under the new leader");
  assert.equal(d.vertices.find((v) => v.id === "sink")?.parallelism, 1, "the sink keeps its declared parallelism");
  // (Forward-connected, the source follows the sink, as it did under the first leader.)
  assert.deepEqual(
    d.vertices.map((v) => [v.id, v.parallelism]),
    before.vertices.map((v) => [v.id, v.parallelism]),
    "the job runs as it did before the failover",
  );
  await dispatcher.ask("cancelJob", { jobId });
});
