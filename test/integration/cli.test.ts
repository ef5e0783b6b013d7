/**
 * The `eddy` command line against real processes: exit codes without a cluster, `eddy cluster`
 * (ready line, info, job commands, payload limit) and its clean shutdown on SIGTERM. The cluster
 * runs secure by default: the commands use the client context its ready line points to.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { freePort } from "../../src/cluster/nats-server.js";
import { connectNats } from "../../src/rpc/nats.js";
import { authOf, readContext } from "../../src/security/context.js";
import { decode } from "../../src/codec/codec.js";
import { startTestNats } from "../helpers/nats-server.js";
import { waitGone, runEddy, spawnEddy, type EddyProcess } from "../helpers/eddy-process.js";
import type { ClusterInfo, JobDetails, JobOverview } from "../../src/cli/job-commands.js";

const work = mkdtempSync(join(tmpdir(), "eddy-cli-test-"));
const prefix = `cli${process.pid}`;
let cluster: EddyProcess | undefined;

after(async () => {
  if (cluster && !cluster.exit) await cluster.stop(30_000).catch(() => cluster?.kill());
  rmSync(work, { recursive: true, force: true });
});

test("without a reachable NATS every client command exits 3", async () => {
  const url = `nats://127.0.0.1:${await freePort()}`;
  for (const args of [["list"], ["info", "--json"], ["status", "0123456789abcdef0123456789abcdef"], ["cancel", "0123456789abcdef0123456789abcdef"]]) {
    const r = await runEddy(args, { natsUrl: url, timeoutMs: 30_000 });
    assert.equal(r.code, 3, `eddy ${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^error ClusterUnreachable: /m);
    assert.equal(r.stdout, "");
  }
  const flag = await runEddy(["list", "--nats", url], { natsUrl: "nats://127.0.0.1:1" });
  assert.equal(flag.code, 3);
  assert.match(flag.stderr, new RegExp(`cannot reach NATS at ${url.replace(/[.:/]/g, "\\$&")}`), "--nats wins over EDDY_NATS_URL");
});

test("NATS without a JobManager: exit 3 with NoResponders", async () => {
  const nats = await startTestNats();
  try {
    const r = await runEddy(["list"], { natsUrl: nats.url, prefix, timeoutMs: 30_000 });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^error NoResponders: /m);
  } finally {
    await nats.stop();
  }
});

test("usage errors exit 2", async () => {
  const r = await runEddy(["run"], { natsUrl: "nats://127.0.0.1:1" });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /usage: eddy run FILE/);
  assert.equal((await runEddy(["frobnicate"])).code, 2);
});

let url = "";
let info: ClusterInfo;
/** The client role's context, beside the admin context the ready line names. */
let clientContext = "";
const clusterTmp = join(work, "tmp");

test("eddy cluster --port 0 --web-port 0 --task-executors 1 prints the ready line with the web address once it accepts jobs", async () => {
  mkdirSync(clusterTmp);
  // TMPDIR points the cluster's temporary JetStream store into a directory this test can watch.
  cluster = spawnEddy(["cluster", "--port", "0", "--web-port", "0", "--task-executors", "1", "--slots", "3"], { prefix, env: { TMPDIR: clusterTmp } });
  const line = await cluster.waitForLine(/^eddy cluster ready /, 90_000);
  const m = /^eddy cluster ready nats=(nats:\/\/127\.0\.0\.1:(\d+)) web=(http:\/\/127\.0\.0\.1:(\d+)) context=(\S+\/contexts\/admin\.json)$/.exec(line);
  assert.ok(m, `ready line: ${line}`);
  url = m[1]!;
  clientContext = join(dirname(m[5]!), "client.json");
  assert.equal(statSync(clientContext).mode & 0o777, 0o600, "context files are the owner's only");
  assert.notEqual(m[2], "4222");
  assert.notEqual(m[4], "8081", "--web-port 0 picks a free port");
  const web = m[3]!;
  const overview = await fetch(`${web}/overview`);
  assert.equal(overview.status, 200);
  assert.equal(((await overview.json()) as { taskmanagers: number }).taskmanagers, 1, "the web address serves the cluster's REST API");
  assert.deepEqual(cluster.stdoutLines, [line], "the ready line is the only stdout");
  assert.equal(readdirSync(clusterTmp).length, 1, "one temporary data dir");

  const anonymous = await runEddy(["info", "--json"], { natsUrl: url, prefix });
  assert.equal(anonymous.code, 3, "without credentials the secured cluster refuses the connection");
  assert.match(anonymous.stderr, /^error NotAuthenticated: /m);
  const r = await runEddy(["info", "--json", "--context", clientContext], { natsUrl: url, prefix });
  assert.equal(r.code, 0, r.stderr);
  info = JSON.parse(r.stdout) as ClusterInfo;
  assert.ok(info.leaders.dispatcher && info.leaders.resourceManager);
  for (const l of [info.leaders.dispatcher, info.leaders.resourceManager]) {
    assert.equal(typeof l.id, "string");
    assert.equal(typeof l.pid, "number");
    assert.equal(typeof l.host, "string");
    assert.equal(typeof l.since, "number");
  }
  assert.equal(info.taskExecutors.length, 1);
  assert.deepEqual(Object.keys(info.taskExecutors[0]!).sort(), ["freeSlots", "host", "id", "pid", "slots"]);
  assert.equal(info.taskExecutors[0]!.slots, 3);
  assert.equal(info.web, web, "info --json names the leader's web address");
  assert.equal(info.leaders.dispatcher.web, web);
  assert.notEqual(info.taskExecutors[0]!.pid, info.leaders.dispatcher.pid, "separate processes");

  const text = await runEddy(["info"], { natsUrl: url, prefix, env: { EDDY_CONTEXT: clientContext } });
  assert.equal(text.code, 0);
  assert.match(text.stdout, /Dispatcher leader: +jm_/);
  assert.match(text.stdout, /TaskExecutors: +1 \(3 slots, 3 free\)/);
  assert.ok(text.stdout.includes(`Web (REST, dashboard):  ${web}`), text.stdout);
});

test("jobs through the CLI: run attached and detached, list, status, cancel", async (t) => {
  if (!url) return t.skip("no cluster");
  const env = { natsUrl: url, prefix, env: { EDDY_CONTEXT: clientContext } };
  const input = join(work, "in.txt");
  writeFileSync(input, "Hello world\nhello Eddy, world!\n");

  const wc = await runEddy(["run", "examples/wordcount.ts", "--parallelism", "2", "--", "--input", input, "--output", join(work, "out")], {
    ...env,
    timeoutMs: 90_000,
  });
  assert.equal(wc.code, 0, wc.stdout + wc.stderr);
  const [submitted, finished] = wc.stdout.split("\n");
  const id = /^Job ([0-9a-f]{32}) submitted$/.exec(submitted!)?.[1];
  assert.ok(id, wc.stdout);
  assert.equal(finished, `Job ${id} FINISHED`);
  assert.match(wc.stdout, /^Net runtime: /m);
  const words = readdirSync(join(work, "out"))
    .flatMap((f) =>
      readFileSync(join(work, "out", f), "utf8")
        .split("\n")
        .filter(Boolean),
    )
    .sort();
  assert.deepEqual(words, ["eddy 1", "hello 2", "world 2"]);

  const failed = await runEddy(["run", "examples/wordcount.ts", "--", "--input", join(work, "missing.txt"), "--output", join(work, "out2")], {
    ...env,
    timeoutMs: 90_000,
  });
  assert.equal(failed.code, 1, "a FAILED job exits 1");
  assert.match(failed.stdout, /^Job [0-9a-f]{32} FAILED$/m);
  assert.match(failed.stdout, /^Failure: /m);

  const jobFile = join(work, "endless.mjs");
  writeFileSync(
    jobFile,
    `export default (args, ctx) => ({ name: "Endless", vertices: [
      { id: "src", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 1e15 } },
      { id: "sink", invokable: "sink.discard", parallelism: ctx.parallelism ?? 1 } ],
      edges: [{ source: "src", target: "sink", partitioner: "rebalance" }] });\n`,
  );
  const det = await runEddy(["run", jobFile, "--detached", "--parallelism", "2"], env);
  assert.equal(det.code, 0, det.stderr);
  const jobId = /^Job ([0-9a-f]{32}) submitted$/.exec(det.stdout.trim())?.[1];
  assert.ok(jobId, det.stdout);

  const list = await runEddy(["list", "--json"], env);
  assert.equal(list.code, 0);
  const jobs = JSON.parse(list.stdout) as JobOverview[];
  assert.deepEqual(new Set(jobs.map((j) => j.id)), new Set([id, jobId, /^Job ([0-9a-f]{32})/m.exec(failed.stdout)![1]]));
  for (const j of jobs) assert.deepEqual(Object.keys(j).filter((k) => ["id", "name", "state", "startTime", "endTime"].includes(k)).length, 5);
  const endless = jobs.find((j) => j.id === jobId)!;
  assert.equal(endless.endTime, null);
  assert.equal(typeof endless.startTime, "number");

  const st = await runEddy(["status", jobId, "--json"], env);
  assert.equal(st.code, 0, st.stderr);
  const details = JSON.parse(st.stdout) as JobDetails;
  assert.equal(details.id, jobId);
  assert.deepEqual(
    details.vertices.map((v) => [v.id, v.parallelism]),
    [
      ["src", 1],
      ["sink", 2],
    ],
  );
  const human = await runEddy(["status", jobId], env);
  assert.match(human.stdout, new RegExp(`^Job ${jobId} "Endless": `));
  assert.equal((await runEddy(["list"], env)).code, 0);

  const cancel = await runEddy(["cancel", jobId], { ...env, timeoutMs: 90_000 });
  assert.equal(cancel.code, 0, cancel.stdout + cancel.stderr);
  assert.match(cancel.stdout, new RegExp(`^Job ${jobId} CANCELED$`, "m"));
  const again = await runEddy(["cancel", jobId], env);
  assert.equal(again.code, 0, "the job is CANCELED: cancel again is idempotent");
  const done = await runEddy(["cancel", id], env);
  assert.equal(done.code, 1, "cancelling a FINISHED job is refused");
  assert.match(done.stderr, /^error \w+: /m);

  const unknown = await runEddy(["status", "0123456789abcdef0123456789abcdef"], env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error JobNotFound: /m);
});

test("a 2 MB request passes NATS (max_payload 4MB) and Eddy refuses it with PayloadTooLarge", async (t) => {
  if (!url) return t.skip("no cluster");
  const nc = await connectNats(url, "cli-test", { auth: authOf(readContext(clientContext)) });
  try {
    const h = natsHeaders();
    h.set("Content-Type", "application/json");
    const body = new TextEncoder().encode(JSON.stringify({ name: "x".repeat(2 * 1024 * 1024), vertices: [], edges: [] }));
    const reply = await nc.request(`${prefix}.dispatcher.submitJob`, body, { timeout: 10_000, headers: h });
    const v = decode(reply.data, "json") as { error?: { code: string } };
    assert.equal(v.error?.code, "PayloadTooLarge");
  } finally {
    await nc.close();
  }
});

test("SIGTERM stops every process the cluster started and exits 0", async (t) => {
  if (!cluster || !url) return t.skip("no cluster");
  const pids = [info.leaders.dispatcher!.pid, ...info.taskExecutors.map((te) => te.pid)];
  const exit = await cluster.stop(60_000);
  assert.deepEqual(exit, { code: 0, signal: null }, cluster.stderr.split("\n").slice(-20).join("\n"));
  assert.deepEqual(await waitGone(pids, 5_000), [], "JobManager and TaskExecutor processes are gone");
  await assert.rejects(connectNats(url, "after-stop", { timeoutMs: 1_000, reconnect: false }), "nats-server is gone");
  assert.deepEqual(readdirSync(clusterTmp), [], "the temporary data dir is removed");
});
