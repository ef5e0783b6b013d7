/**
 * The dashboard with a job at parallelism 1,000 (Flink's web UI is known to break at that size,
 * FLINK-35902). No job of that size runs on a test machine, so the JobManager's web server is started
 * in-process against a real NATS where a stand-in answers the Dispatcher's read requests with such a
 * job: two vertices of 1,000 subtasks on 250 TaskExecutors. A real browser then shows the graph as one
 * box per vertex, the vertices aggregated over their subtasks, and the subtasks 50 to a page, with a
 * page that stays small (its element count does not grow with the parallelism).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import type { Subscription } from "@nats-io/transport-node";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { encode } from "../../src/codec/codec.js";
import { silentLogger } from "../../src/core/logger.js";
import { startWebServer, type WebServer } from "../../src/web/index.js";
import type { MetricQuery, MetricValues, SubtaskMetrics } from "../../src/metrics/types.js";
import type { ClusterInfo, JobDetails, JobPlanView, JobTasksOverview, SubtaskView } from "../../schemas/dispatcher-api.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { CHROMIUM, shot, until } from "../helpers/browser.js";

/** The predicates below run in the page, where `document` is the DOM's (this file compiles without DOM types). */
declare const document: any;

const P = 1_000;
const TASK_EXECUTORS = 250;
const JOB_ID = "a1".repeat(16);
const VERTICES = [
  { id: "src", name: "Source: Sequence" },
  { id: "sink", name: "Sink: Discard" },
];

let nats: TestNats;
let nc: NatsConnection;
let web: WebServer;
let standIn: Subscription;
const subjects = new Subjects(`scale${Date.now().toString(36)}`);

const teId = (k: number) => `te_${String(k).padStart(12, "0")}`;

function jobDetails(now: number): JobDetails {
  const subtasks = (): SubtaskView[] =>
    Array.from({ length: P }, (_, index) => ({
      index,
      state: "RUNNING",
      attempt: 0,
      taskExecutor: teId(index % TASK_EXECUTORS),
      slot: Math.floor(index / TASK_EXECUTORS),
      timestamps: { CREATED: now - 60_000, DEPLOYING: now - 59_000, INITIALIZING: now - 58_500, RUNNING: now - 58_000 },
    }));
  return {
    id: JOB_ID,
    name: "parallelism 1000",
    state: "RUNNING",
    startTime: now - 60_000,
    endTime: null,
    timestamps: { INITIALIZING: now - 60_000, CREATED: now - 60_000, RUNNING: now - 59_000 },
    failure: null,
    vertices: VERTICES.map((v) => ({ ...v, parallelism: P, maxParallelism: 1_024, state: "RUNNING", subtasks: subtasks() })),
    checkpoints: { completed: 0, failed: 0, latest: null },
  };
}

const plan: JobPlanView = {
  jid: JOB_ID,
  name: "parallelism 1000",
  nodes: VERTICES.map((v, k) => ({
    id: v.id,
    description: v.name,
    parallelism: P,
    maxParallelism: 1_024,
    operator: v.name,
    inputs: k === 0 ? [] : [{ num: 0, id: VERTICES[k - 1]!.id, ship_strategy: "REBALANCE" as const, exchange: "pipelined" as const }],
  })),
};

const cluster: ClusterInfo = {
  leaders: { dispatcher: { id: "jm_standin", pid: process.pid, host: "localhost", since: Date.now() }, resourceManager: null },
  taskExecutors: Array.from({ length: TASK_EXECUTORS }, (_, k) => ({ id: teId(k), pid: 10_000 + k, host: "localhost", slots: 4, freeSlots: 0 })),
  web: null,
};

/** What the Dispatcher would answer, by method. */
function answer(method: string): unknown {
  const now = Date.now();
  switch (method) {
    case "clusterInfo":
      return cluster;
    case "requestJobsOverview":
      return [
        { id: JOB_ID, name: "parallelism 1000", state: "RUNNING", startTime: now - 60_000, endTime: null, tasks: { RUNNING: 2 * P, total: 2 * P } },
      ] satisfies JobTasksOverview[];
    case "requestJob":
      return jobDetails(now);
    case "requestJobPlan":
      return plan;
    case "requestJobCheckpoints":
      return null;
    case "requestJobExceptions":
      return { entries: [], truncated: false };
    default:
      return undefined;
  }
}

/** Every subtask processing 1,000 records a second, a tenth of its time back-pressured. */
const subtaskValues: MetricValues = {
  numRecordsIn: 60_000,
  numRecordsOut: 60_000,
  numRecordsInPerSecond: 1_000,
  numRecordsOutPerSecond: 1_000,
  numBytesIn: 1_000_000,
  numBytesOut: 1_000_000,
  busyTimeMsPerSecond: 300,
  backPressuredTimeMsPerSecond: 100,
};
const metrics: MetricQuery = {
  job: () => ({}),
  subtasks: (_j, _v): SubtaskMetrics[] =>
    Array.from({ length: P }, (_, subtask) => ({
      subtask,
      attempt: 0,
      taskExecutorId: teId(subtask % TASK_EXECUTORS),
      updatedAt: Date.now(),
      values: subtaskValues,
    })),
  vertex: () => ({
    ...subtaskValues,
    numRecordsInPerSecond: P * 1_000,
    numRecordsOutPerSecond: P * 1_000,
    numRecordsIn: P * 60_000,
    numRecordsOut: P * 60_000,
  }),
  throughput: () => [],
  taskExecutor: () => ({}),
  lastReport: () => Date.now(),
  cluster: () => ({}),
  prometheus: () => "",
};

before(async () => {
  nats = await startTestNats();
  nc = await connectNats(nats.url, "dashboard-scale");
  standIn = nc.subscribe(`${subjects.dispatcher}.*`, {
    callback: (_err, m) => {
      const value = answer(m.subject.slice(subjects.dispatcher.length + 1));
      if (value !== undefined) m.respond(encode(value));
    },
  });
  web = await startWebServer({ host: "127.0.0.1", port: 0, nc, subjects, metrics, log: silentLogger(), version: "test" });
});
after(async () => {
  await web?.close();
  standIn?.unsubscribe();
  await nc?.close();
  await nats?.stop();
});

test("at parallelism 1,000 the dashboard draws a box per vertex, aggregates the vertices and pages the subtasks 50 at a time", async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`);
  const dir = mkdtempSync(join(tmpdir(), "eddy-dashboard-scale-"));
  // The job's REST view carries the vertices aggregated, not their subtasks.
  const body = await (await fetch(new URL(`jobs/${JOB_ID}`, web.url))).text();
  assert.ok(body.length < 20_000, `GET /jobs/:jid is ${body.length} bytes at parallelism ${P}`);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(new URL(`#/jobs/${JOB_ID}`, web.url).href);
    await until(
      page,
      "one box per vertex, each at p=1000 with its rate",
      (ids) =>
        ids.every((id) => {
          const g = document.querySelector(`g[data-vertex-id="${id}"]`);
          return !!g && /p=1000/.test(g.textContent) && Number(g.querySelector(".node-rates")?.getAttribute("data-out")) === 1_000_000;
        }) && document.querySelectorAll("g[data-vertex-id]").length === ids.length,
      VERTICES.map((v) => v.id),
    );
    await until(page, "a row per vertex", (n) => document.querySelectorAll(".subtasks section:first-child tbody tr[data-key]").length === n, VERTICES.length);
    const keys = () => Array.from(document.querySelectorAll(".subtasks section:last-child tbody tr[data-key]")).map((tr: any) => Number(tr.dataset.key));
    await until(
      page,
      "the first page of subtasks, 50 rows, 1–50 of 1,000",
      () =>
        document.querySelectorAll(".subtasks section:last-child tbody tr[data-key]").length === 50 &&
        /1–50 of 1,000/.test(document.querySelector(".pager .range")?.textContent ?? ""),
      null,
    );
    assert.deepEqual(
      await page.evaluate(keys),
      Array.from({ length: 50 }, (_, i) => i),
    );
    await shot(page, dir, "job-p1000");
    // The page does not grow with the parallelism: a table of 1,000 rows alone would be some 16,000 elements.
    const elements = await page.evaluate(() => document.getElementsByTagName("*").length);
    assert.ok(elements < 3_000, `the job page has ${elements} elements`);

    for (let k = 1; k < P / 50; k++) await page.click('button[data-action="next-page"]');
    await until(
      page,
      "the last page, 951–1,000 of 1,000",
      () =>
        /951–1,000 of 1,000/.test(document.querySelector(".pager .range")?.textContent ?? "") &&
        document.querySelectorAll(".subtasks section:last-child tbody tr[data-key]").length === 50,
      null,
    );
    assert.deepEqual(
      await page.evaluate(keys),
      Array.from({ length: 50 }, (_, i) => 950 + i),
    );
    assert.equal(await page.evaluate(() => document.querySelector('button[data-action="next-page"]').disabled), true, "no page after the last");
    await shot(page, dir, "subtasks-last-page");

    // 250 TaskExecutors, 1,000 slots on the overview.
    await page.goto(new URL("#/overview", web.url).href);
    await until(
      page,
      "250 TaskExecutors and 1,000 slots",
      () =>
        document.querySelector('[data-stat="taskmanagers"]')?.textContent === "250" &&
        /^1,?000$/.test(document.querySelector('[data-stat="slots-total"]')?.textContent ?? ""),
      null,
    );
    await shot(page, dir, "overview-250-taskexecutors");
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser?.close();
  }
});
