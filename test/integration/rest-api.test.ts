/**
 * The JobManager's REST API against a real process cluster (two JobManagers, three TaskExecutors)
 * running real jobs: Flink's field names, values that agree with the Dispatcher's own answers and
 * `eddy list`, writes (cancel, savepoint, rescale refusal), the exception history of a SIGKILLed
 * TaskExecutor, a standby's answers, live events, and bad input.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { waitFor } from "../../src/core/time.js";
import type { ClusterInfo, JobDetails } from "../../schemas/dispatcher-api.js";
import { startProcessCluster, webUrlOf, type ProcessCluster } from "../helpers/process-cluster.js";
import { runEddy } from "../helpers/eddy-process.js";
import { allRunning, awaitJobResult, runToCompletion, waitForJob } from "../helpers/jobs.js";
import { firstEvent, getJson, http, openStream } from "../helpers/http-client.js";
import { connect } from "node:net";
import { MAX_EVENT_CLIENTS } from "../../src/web/index.js";
import { join } from "node:path";
import { buildJob } from "../../src/sdk/load-job.js";
import { packageRoot } from "../../src/cluster/paths.js";
import { BundleStore } from "../../src/blob/index.js";
import { Subjects } from "../../src/rpc/subjects.js";

let cluster: ProcessCluster;
let web = "";
let standbyWeb = "";

before(async () => {
  cluster = await startProcessCluster({ taskExecutors: 3, slots: 2, jobManagers: 2, logLevel: "info", taskExecutorLogLevel: "warn" });
  web = await webUrlOf(cluster.jobManagers[0]!);
  standbyWeb = await webUrlOf(cluster.jobManagers[1]!);
});
after(async () => {
  await cluster?.stop();
});

/** A job of three vertices (no chaining: rebalance and hash edges) that runs until canceled, checkpointing every 200 ms. */
function streamingJob(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    vertices: [
      { id: "numbers", invokable: "source.sequence", parallelism: 2, config: { from: 0, to: 1e12, ratePerSecond: 2_000 } },
      { id: "pass", invokable: "op.identity", parallelism: 2 },
      { id: "sink", invokable: "sink.discard", parallelism: 1 },
    ],
    edges: [
      { source: "numbers", target: "pass", partitioner: "rebalance" },
      { source: "pass", target: "sink", partitioner: "hash" },
    ],
    config: { checkpointing: { intervalMs: 200 }, restartStrategy: { type: "fixed-delay", attempts: 5, delayMs: 100 }, ...extra },
  };
}

const finiteJob = (name: string) => ({
  name,
  vertices: [
    { id: "numbers", invokable: "source.sequence", parallelism: 1, config: { from: 1, to: 1000 } },
    { id: "sink", invokable: "sink.discard", parallelism: 1 },
  ],
  edges: [{ source: "numbers", target: "sink", partitioner: "rebalance" }],
});

async function submit(spec: unknown): Promise<string> {
  return (await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec)).jobId;
}

const requestJob = (jobId: string) => cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });

/** The job ids by state, as `eddy list --json` prints them. */
async function listByCli(): Promise<Array<{ id: string; name: string; state: string; startTime: number }>> {
  const r = await runEddy(["list", "--json"], { natsUrl: cluster.natsUrl, prefix: cluster.prefix });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

interface JobsOverview {
  jobs: Array<{ jid: string; name: string; state: string; "start-time": number; "end-time": number; duration: number; tasks: Record<string, number> }>;
}

test("GET /overview and /jobs/overview count the jobs eddy list shows, with Flink's field names", async () => {
  for (let i = 0; i < 2; i++) assert.equal((await runToCompletion(cluster.dispatcher, finiteJob(`finite ${i}`))).state, "FINISHED");
  const running = await submit(streamingJob("overview running"));
  await waitForJob(cluster.dispatcher, running, allRunning, 30_000, "RUNNING");

  const listed = await listByCli();
  const overview = await getJson<Record<string, number | string>>(web, "/overview");
  assert.deepEqual(Object.keys(overview).sort(), [
    "eddy-version",
    "jobs-cancelled",
    "jobs-failed",
    "jobs-finished",
    "jobs-running",
    "slots-available",
    "slots-total",
    "taskmanagers",
  ]);
  const count = (pred: (s: string) => boolean) => listed.filter((j) => pred(j.state)).length;
  assert.equal(
    overview["jobs-finished"],
    count((s) => s === "FINISHED"),
  );
  assert.equal(
    overview["jobs-cancelled"],
    count((s) => s === "CANCELED"),
  );
  assert.equal(
    overview["jobs-failed"],
    count((s) => s === "FAILED"),
  );
  assert.equal(
    overview["jobs-running"],
    count((s) => !["FINISHED", "CANCELED", "FAILED"].includes(s)),
  );
  assert.equal(overview.taskmanagers, 3);
  assert.equal(overview["slots-total"], 6);
  const info = await cluster.dispatcher.ask<ClusterInfo>("clusterInfo");
  assert.equal(
    overview["slots-available"],
    info.taskExecutors.reduce((n, t) => n + t.freeSlots, 0),
  );

  const jobs = await getJson<JobsOverview>(web, "/jobs/overview");
  assert.deepEqual(jobs.jobs.map((j) => j.jid).sort(), listed.map((j) => j.id).sort(), "the same jobs as eddy list");
  for (const j of jobs.jobs) {
    const l = listed.find((x) => x.id === j.jid)!;
    assert.equal(j.name, l.name);
    assert.equal(j["start-time"], l.startTime);
    assert.ok(j.state === l.state || l.state !== "FINISHED", `${j.jid}: ${j.state} vs ${l.state}`);
    assert.deepEqual(
      Object.keys(j)
        .filter((k) => k !== "last-modification")
        .sort(),
      ["duration", "end-time", "jid", "name", "start-time", "state", "tasks"],
    );
  }
  const run = jobs.jobs.find((j) => j.jid === running)!;
  assert.equal(run["end-time"], -1, "-1 while running");
  assert.equal(run.tasks.total, 5);
  assert.equal(run.tasks.running, 5);
  const done = jobs.jobs.find((j) => j.state === "FINISHED")!;
  assert.equal(done.tasks.finished, 2);
  assert.ok(done["end-time"] >= done["start-time"]);
  assert.equal(done.duration, done["end-time"] - done["start-time"]);

  // The same answers from the standby JobManager (it reads the leader's Dispatcher over NATS).
  const fromStandby = await getJson<JobsOverview>(standbyWeb, "/jobs/overview");
  const key = (o: JobsOverview) => o.jobs.map((j) => `${j.jid} ${j.name} ${j["start-time"]}`).sort();
  assert.deepEqual(key(fromStandby), key(jobs), "a standby JobManager answers the same /jobs/overview");
  assert.equal((await getJson<{ taskmanagers: number }>(standbyWeb, "/overview")).taskmanagers, 3);
  await cluster.dispatcher.ask("cancelJob", { jobId: running });
});

test("GET /jobs/:jid has Flink's job detail fields, the plan's ship strategies, and the checkpoint counts of requestJob", async () => {
  const jobId = await submit(streamingJob("details"));
  await waitForJob(cluster.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed >= 2, 30_000, "two checkpoints");
  const d = await getJson<Record<string, unknown> & { vertices: Array<Record<string, unknown>>; plan: { nodes: Array<Record<string, unknown>> } }>(
    web,
    `/jobs/${jobId}`,
  );
  for (const k of ["jid", "name", "state", "start-time", "end-time", "duration", "now", "timestamps", "vertices", "plan"]) assert.ok(k in d, `field ${k}`);
  assert.equal(d.jid, jobId);
  assert.equal(d.state, "RUNNING");
  assert.equal(d["end-time"], -1);
  assert.equal(typeof (d.timestamps as Record<string, number>).RUNNING, "number");
  assert.deepEqual(
    d.vertices.map((v) => v.id),
    ["numbers", "pass", "sink"],
  );
  for (const v of d.vertices) {
    for (const k of ["id", "name", "parallelism", "maxParallelism", "status", "tasks", "metrics", "backpressure-level"]) assert.ok(k in v, `vertex field ${k}`);
    const m = v.metrics as Record<string, unknown>;
    for (const k of [
      "read-records",
      "write-records",
      "read-bytes",
      "write-bytes",
      "read-records-per-second",
      "write-records-per-second",
      "backpressure-ratio",
      "busy-ratio",
      "current-input-watermark",
    ])
      assert.ok(k in m, `metric ${k}`);
    assert.equal((v.tasks as Record<string, number>).RUNNING, v.parallelism);
  }
  const inputs: Record<string, Array<{ id: string; ship_strategy: string }>> = Object.fromEntries(d.plan.nodes.map((n) => [n.id, n.inputs]));
  assert.deepEqual(inputs.numbers, []);
  assert.deepEqual(
    inputs.pass!.map((i) => [i.id, i.ship_strategy]),
    [["numbers", "REBALANCE"]],
  );
  assert.deepEqual(
    inputs.sink!.map((i) => [i.id, i.ship_strategy]),
    [["pass", "HASH"]],
  );

  // Paging of a vertex's subtasks.
  const page = await getJson<{ total: number; subtasks: Array<Record<string, unknown>> }>(web, `/jobs/${jobId}/vertices/pass?offset=1&limit=1`);
  assert.equal(page.total, 2);
  assert.equal(page.subtasks.length, 1);
  assert.equal(page.subtasks[0]!.subtask, 1);
  assert.equal(page.subtasks[0]!.status, "RUNNING");
  assert.equal(page.subtasks[0]!.host, hostname());
  const bp = await getJson<{ status: string; "backpressure-level": string; subtasks: unknown[] }>(web, `/jobs/${jobId}/vertices/pass/backpressure`);
  assert.equal(bp.status, "ok");
  assert.equal(bp.subtasks.length, 2);
  assert.ok(["ok", "low", "high"].includes(bp["backpressure-level"]));
  assert.ok(Array.isArray(await getJson(web, `/jobs/${jobId}/vertices/pass/watermarks`)));
  const tp = await getJson<{ vertices: Record<string, unknown[]> }>(web, `/jobs/${jobId}/throughput`);
  assert.deepEqual(Object.keys(tp.vertices).sort(), ["numbers", "pass", "sink"]);

  const config = await getJson<Record<string, unknown>>(web, `/jobs/${jobId}/checkpoints/config`);
  assert.equal(config.interval, 200);
  assert.equal(config.mode, "exactly_once");
  assert.equal(config.max_concurrent, 1);

  // Once the job ended its numbers stand still: REST and requestJob must agree exactly.
  assert.equal((await http(web, "PATCH", `/jobs/${jobId}?mode=cancel`)).status, 202);
  assert.equal((await awaitJobResult(cluster.dispatcher, jobId, 30_000)).state, "CANCELED");
  const rj = await requestJob(jobId);
  const cps = await getJson<{
    counts: Record<string, number>;
    latest: { completed: { id: number; state_size: number } | null };
    history: Array<Record<string, unknown>>;
  }>(web, `/jobs/${jobId}/checkpoints`);
  assert.equal(cps.counts.completed, rj.checkpoints.completed);
  assert.equal(cps.counts.failed, rj.checkpoints.failed);
  assert.equal(cps.counts.in_progress, 0);
  assert.equal(cps.counts.total, cps.counts.completed + cps.counts.failed);
  assert.equal(cps.latest.completed?.id, rj.checkpoints.latest?.id);
  assert.equal(cps.latest.completed?.state_size, rj.checkpoints.latest?.bytes);
  assert.ok(cps.history.length > 0 && cps.history.length <= 10);
  for (const h of cps.history) {
    for (const k of [
      "id",
      "status",
      "is_savepoint",
      "trigger_timestamp",
      "latest_ack_timestamp",
      "state_size",
      "end_to_end_duration",
      "num_subtasks",
      "num_acknowledged_subtasks",
    ])
      assert.ok(k in h, `history field ${k}`);
    assert.equal(h.num_subtasks, 5);
    if (h.status === "COMPLETED") assert.equal(h.num_acknowledged_subtasks, 5);
  }
  assert.deepEqual(
    cps.history.map((h) => h.id),
    [...cps.history.map((h) => h.id as number)].sort((a, b) => b - a),
    "newest first",
  );
  const ended = await getJson<{ state: string; "end-time": number }>(web, `/jobs/${jobId}`);
  assert.equal(ended.state, "CANCELED");
  assert.ok(ended["end-time"] > 0);
});

test("vertex read-records and write-records agree with the job's accumulators once its tasks reported", async () => {
  const n = 30_000;
  const result = await runToCompletion(cluster.dispatcher, {
    name: "counted",
    vertices: [
      { id: "numbers", invokable: "source.sequence", parallelism: 2, config: { from: 1, to: n } },
      { id: "sink", invokable: "sink.discard", parallelism: 2 },
    ],
    edges: [{ source: "numbers", target: "sink", partitioner: "rebalance" }],
  });
  assert.equal(result.state, "FINISHED");
  assert.equal(result.accumulators["numbers.records-out"], n);
  assert.equal(result.accumulators["sink.records-in"], n);
  type V = { id: string; metrics: Record<string, number> };
  // The last values of finished tasks travel with their TaskExecutor's next report.
  const vertices = await waitFor(
    async () => {
      const d = await getJson<{ vertices: V[] }>(web, `/jobs/${result.jobId}`);
      const by = Object.fromEntries(d.vertices.map((v) => [v.id, v.metrics]));
      return by.numbers?.["write-records"] === n && by.sink?.["read-records"] === n ? by : undefined;
    },
    30_000,
    "vertex metrics equal to the accumulators",
    200,
  );
  assert.ok(vertices.numbers!["write-bytes"]! > 0, "bytes counted with the records");
  assert.equal(vertices.sink!["read-bytes"], vertices.numbers!["write-bytes"], "what one vertex writes the other reads");
});

test("a source held back by a slow vertex reads HIGH back pressure, and the slow vertex reads busy", async () => {
  const { spec, bundle } = await buildJob(join(packageRoot(), "test/fixtures/slow-map-job.ts"), [], { parallelism: 1 });
  // The slow map (and the sink chained to it) in a slot of its own: tasks that share a slot share its
  // thread, and a source that waits for that thread is not waiting for its output (docs/metrics.md).
  for (const v of spec.vertices) if (v.id !== "numbers") v.slotSharingGroup = "slow";
  await (await BundleStore.open(cluster.nc, new Subjects(cluster.prefix))).put(bundle.bytes);
  const jobId = await submit(spec);
  try {
    await waitForJob(cluster.dispatcher, jobId, allRunning, 30_000);
    // The fixture's uids are its vertex ids: "numbers" (the source) and "slow" (the map, the sink chained to it).
    const source = { id: "numbers" };
    const slow = { id: "slow" };
    type Bp = { "backpressure-level": string; subtasks: Array<{ ratio: number; busyRatio: number }> };
    const bp = await waitFor(
      async () => {
        const b = await getJson<Bp>(web, `/jobs/${jobId}/vertices/${source.id}/backpressure`);
        return b["backpressure-level"] === "high" ? b : undefined;
      },
      30_000,
      "the source's back pressure HIGH",
      200,
    );
    assert.ok(bp.subtasks[0]!.ratio > 0.5, JSON.stringify(bp));
    const busy = await waitFor(
      async () => {
        const b = await getJson<Bp>(web, `/jobs/${jobId}/vertices/${slow.id}/backpressure`);
        return b.subtasks[0]!.busyRatio > 0.5 ? b : undefined;
      },
      30_000,
      "the slow vertex busy",
      200,
    );
    assert.equal(busy["backpressure-level"], "ok", "the slow vertex itself is not held back");
  } finally {
    await cluster.dispatcher.ask("cancelJob", { jobId }).catch(() => undefined);
  }
});

test("a savepoint through REST: the request id's operation completes with the savepoint's location, which a new job restores", async () => {
  const jobId = await submit(streamingJob("savepoint"));
  await waitForJob(cluster.dispatcher, jobId, allRunning, 30_000, "RUNNING");
  const post = await http(web, "POST", `/jobs/${jobId}/savepoints`, JSON.stringify({ "cancel-job": false }));
  assert.equal(post.status, 202, post.text);
  const rid = (post.json as { "request-id": string })["request-id"];
  assert.match(rid, /^[0-9a-f]{32}$/);
  const done = await waitFor(
    async () => {
      const r = await getJson<{ status: { id: string }; operation?: { location?: string; "failure-cause"?: unknown } }>(
        web,
        `/jobs/${jobId}/savepoints/${rid}`,
      );
      return r.status.id === "COMPLETED" ? r : undefined;
    },
    60_000,
    "savepoint COMPLETED",
    100,
  );
  const location = done.operation?.location;
  assert.equal(typeof location, "string", JSON.stringify(done));
  const cps = await getJson<{ latest: { savepoint: { is_savepoint: boolean; status: string } | null } }>(web, `/jobs/${jobId}/checkpoints`);
  assert.equal(cps.latest.savepoint?.is_savepoint, true);
  assert.equal(cps.latest.savepoint?.status, "COMPLETED");
  await cluster.dispatcher.ask("cancelJob", { jobId });

  const restored = await submit(streamingJob("restored", { savepoint: location }));
  await waitForJob(cluster.dispatcher, restored, allRunning, 30_000, "RUNNING");
  const rc = await getJson<{ counts: { restored: number }; latest: { restored: { is_savepoint: boolean } | null } }>(web, `/jobs/${restored}/checkpoints`);
  assert.equal(rc.counts.restored, 1);
  assert.equal(rc.latest.restored?.is_savepoint, true);

  // With cancel-job the job ends once the savepoint is taken.
  const stop = await http(web, "POST", `/jobs/${restored}/savepoints`, JSON.stringify({ "cancel-job": true }));
  assert.equal(stop.status, 202, stop.text);
  const result = await awaitJobResult(cluster.dispatcher, restored, 90_000);
  assert.ok(["FINISHED", "CANCELED"].includes(result.state), result.state);
  const unknownOp = await http(web, "GET", `/jobs/${restored}/savepoints/${"0".repeat(32)}`);
  assert.equal(unknownOp.status, 404);
});

test("live events: an overview event arrives on connect, and a job event with ?job=", async () => {
  const ev = await firstEvent(web, "/events", "overview", 10_000);
  assert.equal(ev.status, 200);
  assert.match(ev.type ?? "", /^text\/event-stream/);
  const data = ev.data as { overview: Record<string, unknown>; jobs: JobsOverview };
  assert.equal(data.overview.taskmanagers, 3);
  assert.ok(Array.isArray(data.jobs.jobs));
  const someJob = data.jobs.jobs[0]!.jid;
  const job = await firstEvent(standbyWeb, `/events?job=${someJob}`, "job", 10_000);
  assert.equal((job.data as { jid: string }).jid, someJob);
  const cps = await firstEvent(web, `/events?job=${someJob}`, "checkpoints", 10_000);
  assert.ok("counts" in (cps.data as object));
});

test("live connections are bounded: one beyond the limit answers 503, a half-sent request holds nothing up", async () => {
  const streams = await Promise.all(Array.from({ length: MAX_EVENT_CLIENTS }, () => openStream(web, "/events")));
  try {
    await refused("GET", "/events", 503, "Unavailable");
    // A client that sends half a request and stops: the others are answered meanwhile.
    const half = connect(Number(new URL(web).port), new URL(web).hostname);
    half.write("GET /overview HTTP/1.1\r\nHost: x\r\n");
    assert.equal((await http(web, "GET", "/overview")).status, 200);
    half.destroy();
  } finally {
    for (const s of streams) s.destroy();
  }
  // Once the streams are gone new ones are taken again.
  await waitFor(async () => ((await http(web, "GET", "/overview")).status === 200 ? true : undefined), 10_000, "answers", 100);
  const ev = await waitFor(() => firstEvent(web, "/events", "overview", 5_000).catch(() => undefined), 20_000, "a stream after the others closed", 200);
  assert.equal(ev.status, 200);
});

test("GET /metrics answers the Prometheus text format; taskmanagers list every TaskExecutor", async () => {
  // The ResourceManager's cluster report reaches every JobManager's store, the standby's too.
  for (const base of [web, standbyWeb]) {
    const m = await waitFor(
      async () => {
        const r = await http(base, "GET", "/metrics");
        return /^eddy_jobmanager_numRegisteredTaskManagers(\{[^}]*\})? 3$/m.test(r.text) ? r : undefined;
      },
      20_000,
      "the cluster metrics in /metrics",
      200,
    );
    assert.equal(m.status, 200);
    assert.equal(m.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  }
  const tms = await getJson<{ taskmanagers: Array<Record<string, unknown>> }>(web, "/taskmanagers");
  const info = await cluster.dispatcher.ask<ClusterInfo>("clusterInfo");
  assert.deepEqual(tms.taskmanagers.map((t) => t.id).sort(), info.taskExecutors.map((t) => t.id).sort());
  for (const t of tms.taskmanagers)
    for (const k of ["id", "host", "pid", "slotsNumber", "freeSlots", "timeSinceLastHeartbeat", "hardware"]) assert.ok(k in t, `taskmanager field ${k}`);
  const one = await getJson<{ id: string; slots: unknown[]; metrics: object }>(web, `/taskmanagers/${info.taskExecutors[0]!.id}`);
  assert.equal(one.slots.length, 2);
});

/** Expects `status` and an `{"errors": [...]}` body naming `code`. */
async function refused(method: string, target: string, status: number, code: string, body?: string | Buffer) {
  const r = await http(web, method, target, body);
  assert.equal(r.status, status, `${method} ${target}: ${r.text.slice(0, 300)}`);
  const b = r.json as { errors?: unknown; code?: string };
  assert.ok(
    Array.isArray(b?.errors) && b.errors.length === 1 && typeof b.errors[0] === "string",
    `${method} ${target}: errors body, got ${r.text.slice(0, 300)}`,
  );
  assert.equal(b.code, code, `${method} ${target}: ${b.errors}`);
  return r;
}

test("bad input answers its status with an errors body, changes nothing, and the server answers afterwards", async () => {
  const jobId = await submit(streamingJob("bad input"));
  await waitForJob(cluster.dispatcher, jobId, allRunning, 30_000, "RUNNING");
  const unknown = "0123456789abcdef0123456789abcdef";
  await refused("GET", "/no/such/thing", 404, "UnknownPath");
  await refused("GET", "/jobs/not-a-job-id", 400, "MalformedRequest");
  await refused("GET", `/jobs/${unknown}`, 404, "JobNotFound");
  await refused("GET", `/jobs/${unknown}/checkpoints`, 404, "JobNotFound");
  await refused("PATCH", `/jobs/${unknown}?mode=cancel`, 404, "JobNotFound");
  await refused("GET", `/jobs/${jobId}/vertices/nope`, 404, "VertexNotFound");
  await refused("GET", `/jobs/${jobId}/vertices/pass?limit=abc`, 400, "MalformedRequest");
  await refused("GET", `/jobs/${jobId}/vertices/pass?offset=-1`, 400, "MalformedRequest");
  await refused("PATCH", `/jobs/${jobId}?mode=stop-everything`, 400, "MalformedRequest");
  await refused("POST", `/jobs/${jobId}/savepoints`, 400, "MalformedRequest", "{not json");
  await refused("POST", `/jobs/${jobId}/savepoints`, 400, "MalformedRequest", JSON.stringify({ "cancel-job": "yes" }));
  await refused("POST", `/jobs/${jobId}/savepoints`, 400, "MalformedRequest", "[1,2]");
  await refused("POST", `/jobs/${jobId}/savepoints`, 400, "PayloadTooLarge", JSON.stringify({ pad: "x".repeat(100_000) }));
  await refused("PUT", `/jobs/${jobId}/resource-requirements`, 400, "MalformedRequest", JSON.stringify({ pass: { parallelism: { lowerBound: "1" } } }));
  await refused(
    "PUT",
    `/jobs/${jobId}/resource-requirements`,
    400,
    "InvalidParallelism",
    JSON.stringify({ pass: { parallelism: { lowerBound: 3, upperBound: 2 } } }),
  );
  // The default scheduler cannot rescale: refused in the job's current state.
  await refused(
    "PUT",
    `/jobs/${jobId}/resource-requirements`,
    409,
    "RescaleNotSupported",
    JSON.stringify({ pass: { parallelism: { lowerBound: 1, upperBound: 1 } } }),
  );
  const wrong = await refused("DELETE", "/overview", 405, "MethodNotAllowed");
  assert.equal(wrong.headers.allow, "GET");
  assert.equal((await refused("POST", `/jobs/${jobId}`, 405, "MethodNotAllowed")).headers.allow, "GET, PATCH");
  for (const t of [
    "/assets/../package.json",
    "/assets/%2e%2e/package.json",
    "/assets/..%2fpackage.json",
    "/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/assets/.env",
  ])
    await refused("GET", t, 404, "UnknownPath");
  await refused("GET", "/jobs/%zz", 400, "MalformedRequest");
  await refused("GET", `/jobs/${jobId}/metrics?get=${"a,".repeat(200)}`, 400, "MalformedRequest");
  await refused("GET", "/events?job=nope", 400, "MalformedRequest");

  // Nothing changed: the job still runs as it was, and the server still answers.
  const d = await requestJob(jobId);
  assert.equal(d.state, "RUNNING");
  assert.deepEqual(
    d.vertices.map((v) => v.parallelism),
    [2, 2, 1],
  );
  assert.equal((await http(web, "GET", "/overview")).status, 200);
  await cluster.dispatcher.ask("cancelJob", { jobId });
});

test("the exception history shows a SIGKILLed TaskExecutor's loss with its location", async () => {
  const jobId = await submit(streamingJob("loses a worker"));
  const running = await waitForJob(cluster.dispatcher, jobId, allRunning, 30_000, "RUNNING");
  const teId = running.vertices[0]!.subtasks[0]!.taskExecutor!;
  const info = await cluster.dispatcher.ask<ClusterInfo>("clusterInfo");
  const pid = info.taskExecutors.find((t) => t.id === teId)!.pid;
  const proc = cluster.taskExecutors.find((p) => p.pid === pid)!;
  proc.kill();
  await proc.waitForExit(10_000);
  type Entry = { exceptionName: string; stacktrace: string; timestamp: number; taskName: string | null; location: string | null };
  const history = await waitFor(
    async () => {
      const r = await getJson<{ exceptionHistory: { entries: Entry[] } }>(web, `/jobs/${jobId}/exceptions`);
      return r.exceptionHistory.entries.length > 0 ? r.exceptionHistory.entries : undefined;
    },
    30_000,
    "an exception history entry",
    100,
  );
  const lost = history.filter((e) => e.stacktrace.includes(`TaskExecutor ${teId} lost`));
  assert.ok(lost.length > 0, JSON.stringify(history));
  for (const e of lost) {
    assert.equal(e.location, `${teId} (${hostname()})`);
    assert.match(e.taskName ?? "", /^(numbers|pass|sink) \(\d\/[12]\)$/);
    assert.equal(typeof e.exceptionName, "string");
    assert.ok(e.timestamp > 0);
  }
  // The same from the standby.
  const fromStandby = await getJson<{ exceptionHistory: { entries: Entry[] } }>(standbyWeb, `/jobs/${jobId}/exceptions`);
  assert.ok(fromStandby.exceptionHistory.entries.some((e) => e.location === `${teId} (${hostname()})`));
  await waitForJob(cluster.dispatcher, jobId, allRunning, 30_000, "RUNNING again");
  // The JobMaster's metric report counts the restart.
  await waitFor(
    async () => ((await getJson<{ numRestarts: number }>(web, `/jobs/${jobId}`)).numRestarts >= 1 ? true : undefined),
    20_000,
    "numRestarts >= 1",
    200,
  );
  await cluster.dispatcher.ask("cancelJob", { jobId });
});
