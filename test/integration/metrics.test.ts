import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { awaitJobResult, waitUntilRunning } from "../helpers/jobs.js";
import { hasPromtool, parsePrometheus, promtoolCheck, PROMTOOL } from "../helpers/promtool.js";
import { createMetricStore, type MetricStoreHandle } from "../../src/metrics/index.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { silentLogger } from "../../src/core/logger.js";
import { waitFor } from "../../src/core/time.js";
import { encode } from "../../src/codec/index.js";
import type { ClusterInfo, JobDetails } from "../../schemas/dispatcher-api.js";

let cluster: ProcessCluster;
let store: MetricStoreHandle;

before(async () => {
  cluster = await startProcessCluster({ taskExecutors: 2, slots: 2 });
  store = await createMetricStore(cluster.nc, new Subjects(cluster.prefix), silentLogger());
});
after(async () => {
  await store?.close();
  await cluster?.stop();
});

const EVENTS = 6_000;

test("a running job's task, TaskExecutor, job and cluster metrics reach a store, and its Prometheus text passes promtool", async () => {
  const q = store.query;
  const spec = {
    name: "metrics job",
    vertices: [
      // 1,000 events per second: the job runs about 6 s, several report intervals.
      { id: "events", invokable: "source.keyedEvents", parallelism: 2, config: { events: EVENTS, keys: 4, ratePerSecond: 1_000 } },
      { id: "count", invokable: "op.countPerKey", parallelism: 2 },
      { id: "out", invokable: "sink.discard", parallelism: 2 },
    ],
    edges: [
      { source: "events", target: "count", partitioner: "hash", key: 0 },
      { source: "count", target: "out", partitioner: "forward" },
    ],
    config: { checkpointing: { intervalMs: 300 } },
  };
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const running = await waitUntilRunning(cluster.dispatcher, jobId, 30_000);
  const [src, counted] = running.vertices;
  assert.equal(src!.id, "events");

  // While it runs, records move at a non-zero rate out of the source and into the keyed vertex.
  await waitFor(
    () => (q.vertex(jobId, src!.id).numRecordsOutPerSecond ?? 0) > 0 && (q.vertex(jobId, counted!.id).numRecordsInPerSecond ?? 0) > 0,
    20_000,
    "non-zero record rates while running",
  );
  assert.equal(q.subtasks(jobId, src!.id).length, 2);
  const busy = q.vertex(jobId, src!.id).busyTimeMsPerSecond;
  assert.ok(busy !== undefined && busy >= 0 && busy <= 1000, `busyTimeMsPerSecond ${busy}`);

  // Every TaskExecutor reports its own metrics.
  const info = await cluster.dispatcher.ask<ClusterInfo>("clusterInfo", {});
  assert.equal(info.taskExecutors.length, 2);
  for (const te of info.taskExecutors) {
    await waitFor(() => (q.taskExecutor(te.id)["Status.Memory.RSS"] ?? 0) > 0 || undefined, 10_000, `metrics of ${te.id}`);
    const m = q.taskExecutor(te.id);
    assert.equal(m["Status.Slots.Total"], 2);
    assert.ok((m["Hardware.CpuCores"] ?? 0) >= 1);
    assert.ok(q.lastReport(te.id) !== undefined);
  }

  // Job metrics: at least the checkpoints requestJob counts at the moment it is asked.
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  await waitFor(
    () => (q.job(jobId).numberOfCompletedCheckpoints ?? -1) >= d.checkpoints.completed || undefined,
    10_000,
    `numberOfCompletedCheckpoints >= ${d.checkpoints.completed}`,
  );
  assert.equal(q.job(jobId).numRestarts, 0);

  const result = await awaitJobResult(cluster.dispatcher, jobId, 60_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  const produced = result.accumulators[`${src!.id}.records-out`];
  assert.equal(produced, EVENTS);
  // The sources' last values arrive with their final report.
  await waitFor(() => q.vertex(jobId, src!.id).numRecordsOut === produced || undefined, 10_000, `numRecordsOut of the source = ${produced}`);
  await waitFor(() => q.vertex(jobId, counted!.id).numRecordsIn === produced || undefined, 10_000, `numRecordsIn of the keyed vertex = ${produced}`);
  await waitFor(() => q.cluster().numRunningJobs === 0 || undefined, 10_000, "no running job");

  // Cluster metrics match clusterInfo once the slots are back.
  await waitFor(
    async () => {
      const now = await cluster.dispatcher.ask<ClusterInfo>("clusterInfo", {});
      const c = q.cluster();
      const total = now.taskExecutors.reduce((n, t) => n + t.slots, 0);
      const free = now.taskExecutors.reduce((n, t) => n + t.freeSlots, 0);
      return (c.numRegisteredTaskManagers === now.taskExecutors.length && c.taskSlotsTotal === total && c.taskSlotsAvailable === free) || undefined;
    },
    15_000,
    "cluster metrics equal to clusterInfo",
  );

  const text = q.prometheus();
  const { samples } = parsePrometheus(text);
  const out = samples.filter((s) => s.name === "eddy_taskmanager_job_task_numRecordsOut" && s.labels.job_id === jobId && s.labels.task_name === "events");
  assert.equal(out.length, 2);
  assert.equal(
    out.reduce((n, s) => n + s.value, 0),
    EVENTS,
  );
  assert.deepEqual(Object.keys(out[0]!.labels).sort(), ["job_id", "job_name", "subtask_index", "task_id", "task_name", "tm_id"]);
  assert.ok(samples.some((s) => s.name === "eddy_jobmanager_job_numRestarts" && s.labels.job_id === jobId && s.labels.job_name === "metrics job"));
  assert.ok(samples.some((s) => s.name === "eddy_jobmanager_numRegisteredTaskManagers" && s.value === 2));
  assert.ok(samples.some((s) => s.name === "eddy_taskmanager_Status_Memory_RSS" && s.labels.tm_id === info.taskExecutors[0]!.id));
  if (!hasPromtool()) {
    console.log(`# SKIP promtool check: ${PROMTOOL} is not installed (CI installs Debian's prometheus package)`);
    return;
  }
  const check = promtoolCheck(text);
  assert.deepEqual(check.problems, [], check.output);
});

test("malformed metric reports are dropped and counted; the store keeps its values", async () => {
  const q = store.query;
  const s = new Subjects(cluster.prefix);
  const before = store.stats().dropped;
  const registered = q.cluster().numRegisteredTaskManagers;
  cluster.nc.publish(s.metricsTaskExecutor("te_bogus"), new Uint8Array([0xc1, 0xff, 0x00]));
  cluster.nc.publish(s.metricsTaskExecutor("te_bogus"), encode({ teId: "te_other", t: 1, full: true, values: {}, tasks: [] }));
  cluster.nc.publish(s.metricsJob("a".repeat(32)), encode({ jobId: "a".repeat(32), jobName: "x", state: "RUNNING", terminal: "no", t: 1, values: {} }));
  cluster.nc.publish(s.metricsCluster, encode({ t: 1, values: { numRegisteredTaskManagers: "many" } }));
  cluster.nc.publish(`${cluster.prefix}.metrics.unknown`, encode({}));
  await waitFor(() => store.stats().dropped >= before + 5 || undefined, 10_000, "five reports dropped");
  assert.deepEqual(q.job("a".repeat(32)), {});
  assert.equal(q.lastReport("te_bogus"), undefined);
  assert.equal(q.lastReport("te_other"), undefined);
  assert.equal(q.cluster().numRegisteredTaskManagers, registered);
  assert.ok(store.stats().reports > 0);
});
