/**
 * The web server's guard against a real process cluster: a JobManager with a web token listening on
 * every address (0.0.0.0), and a standby without one (open mode). Writes without the token or with a
 * wrong one answer 401 and change nothing, with it they are done; reads from this machine's
 * non-loopback address need the token, reads from loopback do not; a loopback socket that names
 * another host is not loopback; in open mode other hosts get nothing and loopback everything; every
 * answer carries the security headers.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import type { JobDetails } from "../../schemas/dispatcher-api.js";
import { startProcessCluster, webUrlOf, type ProcessCluster } from "../helpers/process-cluster.js";
import { spawnEddy, type EddyProcess } from "../helpers/eddy-process.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { firstEvent, http, type HttpAnswer } from "../helpers/http-client.js";
import { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from "../../src/web/security-headers.js";

const TOKEN = randomBytes(24).toString("hex");
const BEARER = { authorization: `Bearer ${TOKEN}` };
/** This machine's first non-loopback IPv4 address: a client connecting to it is not on loopback. */
const OUTSIDE_IP = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
const NO_OUTSIDE_IP = OUTSIDE_IP === undefined ? "this machine has no non-loopback IPv4 address to reach the server from" : false;

let cluster: ProcessCluster;
/** The JobManager with the token, by loopback and by the outside address. */
let web = "";
let outside = "";
/** The standby without a token. */
let openJm: EddyProcess | undefined;
let openWeb = "";
let openOutside = "";

const viaOutside = (loopbackUrl: string) => `http://${OUTSIDE_IP}:${new URL(loopbackUrl).port}`;

before(async () => {
  cluster = await startProcessCluster({
    taskExecutors: 1,
    slots: 2,
    logLevel: "info",
    taskExecutorLogLevel: "warn",
    jobManagerArgs: ["--web-host", "0.0.0.0", "--web-token", TOKEN],
  });
  web = await webUrlOf(cluster.jobManager);
  openJm = spawnEddy(["jobmanager", "--web-port", "0", "--web-host", "0.0.0.0"], { ...cluster.env, env: {} });
  openWeb = await webUrlOf(openJm);
  if (OUTSIDE_IP !== undefined) [outside, openOutside] = [viaOutside(web), viaOutside(openWeb)];
});
after(async () => {
  await openJm?.stop(10_000).catch(() => openJm?.kill());
  await cluster?.stop();
});

/** A job that runs until canceled. */
async function runningJob(name: string): Promise<string> {
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", {
    name,
    vertices: [
      { id: "numbers", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 1e12, ratePerSecond: 1_000 } },
      { id: "sink", invokable: "sink.discard", parallelism: 1 },
    ],
    edges: [{ source: "numbers", target: "sink", partitioner: "rebalance" }],
    config: { checkpointing: { intervalMs: 500 } },
  });
  await waitForJob(cluster.dispatcher, jobId, allRunning, 30_000, "RUNNING");
  return jobId;
}

/** Expects a 401 with Flink's error body, code Unauthorized and `WWW-Authenticate: Bearer`; returns its message. */
function assertUnauthorized(r: HttpAnswer, what: string): string {
  assert.equal(r.status, 401, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
  assert.equal(r.headers["www-authenticate"], "Bearer", what);
  const body = r.json as { errors: string[]; code: string };
  assert.equal(body.code, "Unauthorized", what);
  assert.ok(body.errors.length === 1 && typeof body.errors[0] === "string", what);
  return body.errors[0]!;
}

test("writes without the token or with a wrong one answer 401 and change nothing; with the token they are done", async () => {
  const jobId = await runningJob("guarded");
  const writes: Array<[string, string, string | undefined]> = [
    ["PATCH", `/jobs/${jobId}?mode=cancel`, undefined],
    ["POST", `/jobs/${jobId}/savepoints`, JSON.stringify({ "cancel-job": true })],
    ["PUT", `/jobs/${jobId}/resource-requirements`, JSON.stringify({ sink: { parallelism: { lowerBound: 1, upperBound: 2 } } })],
  ];
  const wrong = { authorization: `Bearer ${randomBytes(24).toString("hex")}` };
  for (const [method, target, body] of writes) {
    assert.match(assertUnauthorized(await http(web, method, target, body), `${method} without a token`), /needs Authorization: Bearer/);
    assert.match(assertUnauthorized(await http(web, method, target, body, 20_000, wrong), `${method} with a wrong token`), /token is wrong/);
  }
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  assert.equal(d.state, "RUNNING", "the refused cancel and stop-with-savepoint did nothing");
  const cps = (await http(web, "GET", `/jobs/${jobId}/checkpoints`)).json as { latest: { savepoint: unknown } };
  assert.equal(cps.latest.savepoint, null, "no savepoint was taken");

  // With the token: the rescale reaches the scheduler (which refuses it), the savepoint and the cancel are done.
  const rescale = await http(web, "PUT", writes[2]![1], writes[2]![2], 20_000, BEARER);
  assert.equal(rescale.status, 409, rescale.text);
  const savepoint = await http(web, "POST", `/jobs/${jobId}/savepoints`, "{}", 20_000, BEARER);
  assert.equal(savepoint.status, 202, savepoint.text);
  const cancel = await http(web, "PATCH", `/jobs/${jobId}?mode=cancel`, undefined, 20_000, BEARER);
  assert.equal(cancel.status, 202, cancel.text);
  assert.equal((await awaitJobResult(cluster.dispatcher, jobId, 30_000)).state, "CANCELED");
});

test("reads from another host need the token, reads from loopback do not, and a loopback socket naming another host is not loopback", {
  skip: NO_OUTSIDE_IP,
}, async () => {
  for (const target of ["/overview", "/jobs/overview", "/metrics", "/events", `/jobs/${"0".repeat(32)}`]) {
    assert.match(assertUnauthorized(await http(outside, "GET", target), `GET ${target} from ${OUTSIDE_IP}`), /a read from another host/);
  }
  assert.equal((await http(outside, "GET", "/overview", undefined, 20_000, BEARER)).status, 200);
  assert.equal((await http(outside, "GET", "/metrics", undefined, 20_000, BEARER)).status, 200);
  const ev = await firstEvent(outside, "/events", "overview", 10_000, BEARER);
  assert.equal((ev.data as { overview: { taskmanagers: number } }).overview.taskmanagers, 1);
  // The page itself loads anywhere (it asks its user for the token); it holds nothing of the cluster.
  assert.equal((await http(outside, "GET", "/")).status, 200);

  assert.equal((await http(web, "GET", "/overview")).status, 200, "loopback reads are open");
  assert.equal((await http(web, "GET", "/metrics")).status, 200);
  assertUnauthorized(await http(web, "GET", "/overview", undefined, 20_000, { host: `rebound.example:${new URL(web).port}` }), "a rebound name");
});

test("without a token (open mode) loopback clients read and write, other hosts and other sites' pages are refused", { skip: NO_OUTSIDE_IP }, async () => {
  const unknownJob = `/jobs/${"0".repeat(32)}?mode=cancel`;
  assert.equal((await http(openWeb, "GET", "/overview")).status, 200);
  const write = await http(openWeb, "PATCH", unknownJob);
  assert.equal(write.status, 404, `a loopback write passes the guard and reaches the Dispatcher: ${write.text}`);
  assert.match(
    assertUnauthorized(await http(openWeb, "PATCH", unknownJob, undefined, 20_000, { origin: "https://elsewhere.example" }), "a cross-site write"),
    /another origin/,
  );
  for (const [method, target] of [
    ["GET", "/overview"],
    ["GET", "/"],
    ["PATCH", unknownJob],
  ] as const)
    assert.match(
      assertUnauthorized(await http(openOutside, method, target, undefined, 20_000, BEARER), `${method} ${target} from ${OUTSIDE_IP}`),
      /no web token/,
    );
});

test("every answer carries the security headers; HTML the Content-Security-Policy; API answers are not cached", async () => {
  const answers: Array<[string, HttpAnswer["headers"]]> = [];
  for (const target of ["/overview", "/no/such/thing", "/metrics", "/", "/assets/app.js"]) answers.push([target, (await http(web, "GET", target)).headers]);
  answers.push(["PATCH without token", (await http(web, "PATCH", `/jobs/${"0".repeat(32)}`)).headers]);
  answers.push(["/events", (await firstEvent(web, "/events", "overview", 10_000)).headers]);
  answers.push(["a malformed request", await rawHeaders(web, "NOT HTTP\r\n\r\n")]);
  for (const [what, headers] of answers) for (const [k, v] of Object.entries(SECURITY_HEADERS)) assert.equal(headers[k], v, `${what}: ${k}`);
  const byTarget = new Map(answers);
  assert.equal(byTarget.get("/")!["content-security-policy"], CONTENT_SECURITY_POLICY);
  assert.equal(byTarget.get("/overview")!["content-security-policy"], undefined, "only HTML needs a policy");
  for (const api of ["/overview", "/no/such/thing", "/metrics", "/events", "PATCH without token"])
    assert.equal(byTarget.get(api)!["cache-control"], "no-store", api);
});

/** Sends `raw` on a new connection and parses the headers of the answer. */
function rawHeaders(base: string, raw: string): Promise<HttpAnswer["headers"]> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    let text = "";
    const timer = setTimeout(() => sock.destroy(new Error("no answer to a raw request within 10 s")), 10_000);
    sock.setEncoding("utf8");
    sock.on("data", (c: string) => (text += c));
    sock.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      const lines = text.split("\r\n\r\n")[0]!.split("\r\n").slice(1);
      resolve(Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()])));
    });
    sock.end(raw);
  });
}
