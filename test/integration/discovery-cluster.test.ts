/**
 * A cluster of real processes answers NATS micro discovery (ADR-32) with plain NATS requests, as
 * `nats micro ls/info/stats` send them: the Dispatcher, the ResourceManager, the JobMaster of a
 * running job and every TaskExecutor, with their endpoints and per-endpoint counters.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Empty } from "@nats-io/transport-node";
import { EddyError } from "../../src/core/errors.js";
import { newId } from "../../src/core/ids.js";
import { packageVersion } from "../../src/core/package.js";
import type { InfoResponse, PingResponse, StatsResponse } from "../../src/rpc/micro/index.js";
import type { ClusterInfo } from "../../schemas/dispatcher-api.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { awaitJobResult, waitUntilRunning } from "../helpers/jobs.js";
import { askInstance, discoverUntil } from "../helpers/micro-discovery.js";

let c: ProcessCluster;
let jobId: string;

before(async () => {
  c = await startProcessCluster({ taskExecutors: 2, slots: 2 });
  ({ jobId } = await c.dispatcher.ask<{ jobId: string }>("submitJob", {
    name: "discoverable",
    vertices: [
      { id: "src", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 1e12, ratePerSecond: 10 } },
      { id: "sink", invokable: "sink.discard", parallelism: 1 },
    ],
    edges: [{ source: "src", target: "sink", partitioner: "forward" }],
  }));
  await waitUntilRunning(c.dispatcher, jobId, 30_000);
});
after(async () => {
  await c?.stop();
});

const name = (role: string) => `${c.prefix}-${role}`;
/** This cluster's services among every reply (another cluster on the same NATS has another prefix). */
const ours = (r: PingResponse[]) => r.filter((p) => p.metadata.prefix === c.prefix);

test("$SRV.PING lists the Dispatcher, the ResourceManager, the running job's JobMaster and every TaskExecutor, and no task", async () => {
  const info = await c.dispatcher.ask<ClusterInfo>("clusterInfo");
  const teIds = info.taskExecutors.map((t) => t.id).sort();
  assert.equal(teIds.length, 2);
  const expected = [name("dispatcher"), name("jobmaster"), name("resourcemanager"), name("taskexecutor"), name("taskexecutor")];
  const pings = ours(await discoverUntil(c.nc, "$SRV.PING", (r) => ours(r).length >= expected.length, "every component answered $SRV.PING", 30_000));
  assert.deepEqual(pings.map((p) => p.name).sort(), expected, "one service per component; the running tasks are none");
  for (const p of pings) {
    assert.equal(p.type, "io.nats.micro.v1.ping_response");
    assert.equal(p.version, packageVersion());
  }
  assert.equal(new Set(pings.map((p) => p.id)).size, pings.length, "every instance has its own id");
  assert.equal(pings.find((p) => p.name === name("jobmaster"))!.metadata.job_id, jobId);
  assert.deepEqual(
    pings
      .filter((p) => p.name === name("taskexecutor"))
      .map((p) => p.metadata.taskexecutor_id)
      .sort(),
    teIds,
  );
  // The JobManager process's three services answer from one process, each TaskExecutor from its own.
  const pid = (role: string) => pings.find((p) => p.name === name(role))!.metadata.pid;
  assert.equal(pid("dispatcher"), String(c.jobManager.pid));
  assert.equal(pid("resourcemanager"), String(c.jobManager.pid));
  assert.equal(pid("jobmaster"), String(c.jobManager.pid));
});

test("$SRV.INFO.<name> lists a component's endpoints on its subjects", async () => {
  const [dispatcher, ...others] = await discoverUntil<InfoResponse>(c.nc, `$SRV.INFO.${name("dispatcher")}`, (r) => r.length >= 1, "the Dispatcher answered");
  assert.equal(others.length, 0, "one Dispatcher leads");
  assert.equal(dispatcher!.type, "io.nats.micro.v1.info_response");
  const endpoints = new Map(dispatcher!.endpoints.map((e) => [e.name, e]));
  for (const m of ["submitJob", "listJobs", "requestJob", "cancelJob", "requestJobResult", "clusterInfo"])
    assert.deepEqual(endpoints.get(m), { name: m, subject: `${c.prefix}.dispatcher.${m}`, queue_group: "", metadata: {} }, m);

  const tes = await discoverUntil<InfoResponse>(c.nc, `$SRV.INFO.${name("taskexecutor")}`, (r) => r.length >= 2, "both TaskExecutors answered");
  assert.equal(tes.length, 2);
  for (const te of tes) {
    const submit = te.endpoints.find((e) => e.name === "submitTask");
    assert.equal(submit?.subject, `${c.prefix}.te.${te.metadata.taskexecutor_id}.submitTask`);
  }
  const [jm] = await discoverUntil<InfoResponse>(c.nc, `$SRV.INFO.${name("jobmaster")}`, (r) => r.length >= 1, "the JobMaster answered");
  assert.ok(jm!.endpoints.some((e) => e.subject === `${c.prefix}.jm.${jobId}.updateTaskExecutionState`));
});

test("$SRV.STATS.<name>: num_requests grows with requests to the component, num_errors with a refused one", async () => {
  const stats = () => c.nc.request(`$SRV.STATS.${name("dispatcher")}`, Empty, { timeout: 5_000 }).then((m) => m.json<StatsResponse>());
  const requestJob = (s: StatsResponse) => s.endpoints.find((e) => e.name === "requestJob")!;
  const before = requestJob(await stats());
  for (let i = 0; i < 3; i++) assert.equal((await c.dispatcher.ask<{ state: string }>("requestJob", { jobId })).state, "RUNNING");
  const unknown = newId();
  await assert.rejects(c.dispatcher.ask("requestJob", { jobId: unknown }), (e: unknown) => e instanceof EddyError && e.code === "JobNotFound");
  const s = await stats();
  assert.equal(s.type, "io.nats.micro.v1.stats_response");
  assert.ok(Date.parse(s.started) <= Date.now(), "started is a time");
  const after = requestJob(s);
  assert.equal(after.subject, `${c.prefix}.dispatcher.requestJob`);
  assert.equal(after.num_requests, before.num_requests + 4);
  assert.equal(after.num_errors, before.num_errors + 1);
  assert.equal(after.last_error, `JobNotFound: no job ${unknown}; \`eddy list\` shows the known jobs`);
  assert.ok(after.processing_time > before.processing_time);
  assert.equal(after.average_processing_time, Math.round(after.processing_time / after.num_requests));

  // One instance by id: the JobMaster counted the TaskExecutors' state updates of its tasks.
  const [jm] = await discoverUntil(c.nc, `$SRV.PING.${name("jobmaster")}`, (r) => r.length >= 1, "the JobMaster answered");
  const jmStats = await askInstance<StatsResponse>(c.nc, "STATS", jm!.name, jm!.id);
  assert.equal(jmStats.id, jm!.id);
  assert.ok(jmStats.endpoints.find((e) => e.name === "updateTaskExecutionState")!.num_requests > 0, "task state updates reached the JobMaster");
});

test("the JobMaster of a job that ended is gone from discovery", async () => {
  assert.deepEqual(await c.dispatcher.ask("cancelJob", { jobId }), { ok: true });
  assert.equal((await awaitJobResult(c.dispatcher, jobId, 30_000)).state, "CANCELED");
  const left = ours(
    await discoverUntil(c.nc, "$SRV.PING", (r) => ours(r).length >= 4 && !ours(r).some((p) => p.name === name("jobmaster")), "the JobMaster left", 30_000),
  );
  assert.deepEqual(left.map((p) => p.name).sort(), [name("dispatcher"), name("resourcemanager"), name("taskexecutor"), name("taskexecutor")]);
});
