/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core) against a real
 * process cluster running keyed-counter: the overview lists the running job, the job page draws its
 * graph with every vertex's name and non-zero rates, the checkpoints tab shows a completed
 * checkpoint, a savepoint and a cancel triggered from the page take effect on the cluster, the
 * rescale tab shows the default scheduler's refusal, the page loads once (every view is a hash route
 * fed live) and never asks another origin for anything (it works offline). Screenshots of each view are kept
 * in the test's temp dir (their paths are printed).
 *
 * The JobManager has a web token: the first write asks for it (a wrong one is asked again), later
 * writes send it; the page runs under the server's Content-Security-Policy without a violation; and the
 * job's name is markup, which the page shows as text.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { awaitJobResult, startProcessCluster, webUrlOf, type ProcessCluster } from "../helpers/process-cluster.js";
import { keyedCounterJob } from "../helpers/keyed-counter.js";
import { CHROMIUM, PAGE_WAIT_MS as WAIT_MS, shot, until } from "../helpers/browser.js";

/** The predicates below run in the page, where `document` is the DOM's (this file compiles without DOM types). */
declare const document: any;

const TOKEN = randomBytes(24).toString("hex");
/** Markup as a job name: the page must show it as text (and were it markup, the policy would stop its script). */
const NAME = 'KeyedCounter <img src=x onerror="document.title=1">';

test("the dashboard shows a running job live, its graph, rates and checkpoints, and cancels it; every request stays on the JobManager's origin", async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`);
  const dir = mkdtempSync(join(tmpdir(), "eddy-dashboard-"));
  let cluster: ProcessCluster | undefined;
  let browser: Browser | undefined;
  try {
    cluster = await startProcessCluster({
      taskExecutors: 2,
      slots: 2,
      logLevel: "info",
      taskExecutorLogLevel: "warn",
      env: { EDDY_WEB_TOKEN: TOKEN },
    });
    const base = new URL(await webUrlOf(cluster.jobManager, WAIT_MS));
    // 200 events per second: the job runs far longer than the test and is canceled from the page.
    const spec = await keyedCounterJob({ events: 1_000_000, keys: 16, rate: 200, intervalMs: 300, output: join(dir, "out"), parallelism: 2 });
    spec.name = NAME;
    const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const requests: string[] = [];
    const pageErrors: string[] = [];
    const policyViolations: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => void (/Content Security Policy/i.test(m.text()) && policyViolations.push(m.text())));

    // Overview: the running job by name and state, the TaskExecutors and slots.
    await page.goto(new URL("#/overview", base).href);
    await until(
      page,
      "running KeyedCounter on the overview, its name as text",
      ({ jid, name }) => {
        const row = document.querySelector(`tr[data-key="${jid}"]`);
        return !!row && row.textContent!.includes(name) && !row.querySelector("img") && row.querySelector(".badge")?.textContent === "RUNNING";
      },
      { jid: jobId, name: NAME },
    );
    await until(
      page,
      "2 TaskExecutors and 4 slots",
      () =>
        document.querySelector('[data-stat="taskmanagers"]')?.textContent === "2" && document.querySelector('[data-stat="slots-total"]')?.textContent === "4",
      null,
    );
    await shot(page, dir, "overview");

    // The job: its graph has a box per vertex with the server's names, each with a non-zero rate.
    const details = (await (await fetch(new URL(`jobs/${jobId}`, base))).json()) as { vertices: Array<{ id: string; name: string; parallelism: number }> };
    assert.ok(details.vertices.length >= 2, `the job has vertices: ${JSON.stringify(details.vertices)}`);
    await page.click(`tr[data-key="${jobId}"] a`);
    await until(
      page,
      "every vertex in the graph with its name",
      (vs) =>
        vs.every((v) => {
          const g = document.querySelector(`g[data-vertex-id="${v.id}"]`);
          return g?.getAttribute("data-name") === v.name && v.name.startsWith(g.querySelector(".node-name tspan").textContent);
        }),
      details.vertices,
    );
    await until(
      page,
      "a non-zero records rate on every vertex",
      (ids) =>
        ids.every((id) => {
          const r = document.querySelector(`g[data-vertex-id="${id}"] .node-rates`);
          return !!r && (Number(r.getAttribute("data-in")) > 0 || Number(r.getAttribute("data-out")) > 0);
        }),
      details.vertices.map((v) => v.id),
    );
    // The subtasks tab lists the first vertex's subtasks, one row each.
    const first = details.vertices[0]!;
    await until(
      page,
      `${first.parallelism} subtask rows`,
      (n) => document.querySelectorAll(".subtasks section:last-child tbody tr[data-key]").length === n,
      first.parallelism,
    );
    await shot(page, dir, "job");

    // Checkpoints: a completed one in the table.
    await page.click('a[data-tab="checkpoints"]');
    await until(page, "a COMPLETED checkpoint", () => !!document.querySelector('.checkpoints tbody .badge[data-state="COMPLETED"]'), null);
    await shot(page, dir, "checkpoints");

    // Exceptions (none: the job has not failed) and watermarks (a row per vertex).
    await page.click('a[data-tab="exceptions"]');
    await until(page, "the empty exception history", () => /has not failed/.test(document.querySelector(".exceptions")?.textContent ?? ""), null);
    await page.click('a[data-tab="watermarks"]');
    await until(page, "a watermark row per vertex", (n) => document.querySelectorAll(".tab tbody tr[data-key]").length === n, details.vertices.length);
    await shot(page, dir, "watermarks");

    // A savepoint from the page, confirmed: the server wants the token, the page asks for it (again
    // after a wrong one), and the savepoint completes with its location shown.
    await page.click('h1 [data-action="savepoint"]');
    await page.click('dialog [data-action="confirm"]');
    await page.fill("dialog.token input[type=password]", "wrong-token-0123456789");
    await page.click('dialog.token [data-action="use-token"]');
    await page.fill('dialog.token:has-text("token is wrong") input', TOKEN);
    await page.click('dialog.token [data-action="use-token"]');
    await until(
      page,
      "the savepoint's completion notice",
      () => /completed: \S+/.test(document.querySelector('.notice[data-kind="ok"]')?.textContent ?? ""),
      null,
    );

    // Rescale: the default scheduler refuses, and the page shows the server's reason.
    await page.click('a[data-tab="rescale"]');
    await page.fill(`.rescale input[data-vertex-id="${details.vertices[0]!.id}"]`, "3");
    await page.click('[data-action="rescale"]');
    await until(page, "the rescale refusal", () => /^Refused: \S/.test(document.querySelector('.rescale .result[data-kind="error"]')?.textContent ?? ""), null);
    await shot(page, dir, "rescale");

    // Throughput: a line per vertex from the last minutes.
    await page.click('a[data-tab="throughput"]');
    await until(
      page,
      "a throughput line per vertex",
      (n) => [...document.querySelectorAll(".chart polyline")].filter((l: any) => l.getAttribute("points").split(" ").length >= 2).length === n,
      details.vertices.length,
    );
    await shot(page, dir, "throughput");

    await page.goto(new URL("#/jobs", base).href);
    await until(
      page,
      "the job among the running jobs",
      (jid) => !!document.querySelector(`tr[data-key="${jid}"] [data-action="cancel"]:not([disabled])`),
      jobId,
    );
    await shot(page, dir, "jobs");

    await page.goto(new URL("#/taskmanagers", base).href);
    await until(page, "2 TaskExecutor rows", () => document.querySelectorAll(".taskmanagers tbody tr[data-key]").length === 2, null);
    await shot(page, dir, "taskmanagers");
    // One TaskExecutor: its slots name the job's tasks (4 subtasks in 4 slots over 2 TaskExecutors).
    await page.click(".taskmanagers tbody tr[data-key] a");
    await until(page, "a slot running the job", (jid) => !!document.querySelector(`.slots a[href="#/jobs/${jid}"]`), jobId);
    await shot(page, dir, "taskmanager");

    // Cancel from the job page: the cluster cancels the job and the page shows it.
    await page.goto(new URL(`#/jobs/${jobId}`, base).href);
    await until(page, "the running job page", () => document.querySelector('[data-testid="job-state"]')?.textContent === "RUNNING", null);
    await page.click('h1 [data-action="cancel"]');
    await page.click('dialog [data-action="confirm"]');
    await until(page, "CANCELED on the job page", () => document.querySelector('[data-testid="job-state"]')?.textContent === "CANCELED", null);
    // The subtasks shown follow the job to its end: none is left RUNNING on the page.
    await until(
      page,
      "the first vertex's subtasks no longer RUNNING",
      (n) => {
        const badges = [...document.querySelectorAll(".subtasks section:last-child tbody tr[data-key] .badge")].map((b: any) => b.textContent);
        return badges.length === n && badges.every((b) => b !== "RUNNING");
      },
      first.parallelism,
    );
    await shot(page, dir, "canceled");
    const result = await awaitJobResult(cluster.dispatcher, jobId, WAIT_MS);
    assert.equal(result.state, "CANCELED");

    // Offline: nothing but the JobManager's own origin (and inline data: URLs) was asked for.
    const foreign = requests.filter((u) => !u.startsWith("data:") && new URL(u).origin !== base.origin);
    assert.deepEqual(foreign, [], "no request to another origin");
    assert.ok(
      requests.some((u) => new URL(u).pathname === "/events"),
      "the page follows the live stream",
    );
    // Every view above was reached by its hash route and updated live: the page itself loaded once.
    assert.equal(requests.filter((u) => new URL(u).pathname === "/").length, 1, "one load of the page, no reload");
    assert.deepEqual(pageErrors, [], "no script error on the page");
    assert.deepEqual(policyViolations, [], "nothing the Content-Security-Policy refused");
    assert.equal(await page.evaluate(() => document.querySelectorAll("img").length), 0, "the job's name was never markup");
    assert.ok(!requests.some((u) => u.endsWith("/x")), "nothing loaded the name's img");

    // An address ending in #token=... gives a new tab the token and leaves the address bar.
    const tab = await browser.newPage();
    await tab.goto(new URL(`#token=${TOKEN}`, base).href);
    await until(
      tab,
      "the token taken from the address",
      (t) => (globalThis as any).location.hash === "#/overview" && (globalThis as any).sessionStorage.getItem("eddy.web-token") === t,
      TOKEN,
    );
  } finally {
    await browser?.close();
    await cluster?.stop();
  }
});
