/**
 * The pieces behind `eddy cluster`: starting nats-server from nats.conf, supervising child
 * processes (SIGTERM, then SIGKILL), and what happens when the cluster itself dies or cannot start.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import { freePort, NatsServerError, startNatsServer } from "../../src/cluster/nats-server.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { ErrorCode, type EddyError } from "../../src/core/errors.js";
import { stopAll, supervise } from "../../src/cluster/processes.js";
import { connectNats } from "../../src/rpc/nats.js";
import { startTestNats } from "../helpers/nats-server.js";
import { pidAlive, waitGone, runEddy, spawnEddy } from "../helpers/eddy-process.js";
import type { ClusterInfo } from "../../src/cli/job-commands.js";

const work = mkdtempSync(join(tmpdir(), "eddy-cluster-test-"));
const cleanups: Array<() => void | Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

test("startNatsServer: free port, JetStream, 4MB max_payload, log in the store dir, stop", async () => {
  const storeDir = join(work, "ns1");
  const srv = await startNatsServer({ port: 0, storeDir });
  cleanups.push(() => srv.kill());
  assert.match(srv.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
  const nc = await connectNats(srv.url, "t");
  assert.equal(nc.info?.max_payload, 4 * 1024 * 1024);
  const kv = await new Kvm(nc).create("t_bucket");
  await kv.put("k", "v");
  assert.equal((await kv.get("k"))?.string(), "v");
  await nc.close();
  assert.ok(existsSync(join(storeDir, "jetstream")), "JetStream store under storeDir");
  assert.ok(existsSync(srv.logPath) && srv.logPath.startsWith(storeDir));
  await srv.stop();
  assert.equal(pidAlive(srv.pid), false);
  await srv.stop(); // idempotent
});

test("startNatsServer on a port taken by another server fails instead of using that server", async () => {
  const other = await startTestNats();
  cleanups.push(() => other.stop());
  const t0 = Date.now();
  await assert.rejects(
    startNatsServer({ port: other.port, storeDir: join(work, "ns2") }),
    (e: unknown) => e instanceof NatsServerError && /exited during startup/.test(e.message),
  );
  assert.ok(Date.now() - t0 < 10_000);
});

test("kill() is a crash: SIGKILL, at once", async () => {
  const srv = await startNatsServer({ port: 0, storeDir: join(work, "ns3") });
  await srv.kill();
  assert.equal(pidAlive(srv.pid), false);
});

test("supervised children: SIGTERM stops a polite one, SIGKILL follows for a stubborn one", async () => {
  const script = (ignoreTerm: boolean) => `${ignoreTerm ? "process.on('SIGTERM', () => {});" : ""} setInterval(() => {}, 1000); process.stdout.write('up\\n');`;
  const spawnNode = (ignore: boolean) => spawn(process.execPath, ["-e", script(ignore)], { stdio: ["ignore", "pipe", "inherit"] });
  const politeCp = spawnNode(false);
  const stubbornCp = spawnNode(true);
  await Promise.all([politeCp, stubbornCp].map((cp) => new Promise((r) => cp.stdout!.once("data", r))));
  const exits: string[] = [];
  const polite = supervise(politeCp, "polite", (c) => exits.push(c.name));
  const stubborn = supervise(stubbornCp, "stubborn", (c) => exits.push(c.name));
  assert.equal(polite.alive(), true);
  const t0 = Date.now();
  const [p, s] = await stopAll([polite, stubborn], 1_000);
  assert.deepEqual(p, { code: null, signal: "SIGTERM" });
  assert.deepEqual(s, { code: null, signal: "SIGKILL" });
  assert.ok(Date.now() - t0 < 5_000);
  assert.deepEqual(exits.sort(), ["polite", "stubborn"]);
  assert.equal(polite.stopping() && !polite.alive(), true);
  assert.deepEqual(await polite.stop(), p, "stop after exit returns the exit");
});

test("eddy cluster on a busy port exits 1 with NatsServerFailed and leaves nothing behind", async () => {
  const other = await startTestNats();
  cleanups.push(() => other.stop());
  const tmp = join(work, "busy-tmp");
  mkdirSync(tmp);
  const r = await runEddy(["cluster", "--port", String(other.port), "--task-executors", "1"], { prefix: "busy", timeoutMs: 60_000, env: { TMPDIR: tmp } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error NatsServerFailed: .*address already in use.*--port/m);
  assert.equal(r.stdout, "");
  assert.deepEqual(readdirSync(tmp), [], "temporary data dir removed");
  // Its processes start early only on a free port: the server holding this one never saw them.
  const nc = await connectNats(other.url, "busy-check");
  try {
    const jsm = await jetstreamManager(nc);
    const streams: string[] = [];
    for await (const name of jsm.streams.names()) streams.push(name);
    assert.deepEqual(streams, [], "no bucket or stream of the failed cluster on the other server");
  } finally {
    await nc.close();
  }
});

test("a first connection told to wait reaches a server started after it; without the wait it fails at once", async () => {
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  await assert.rejects(connectNats(url, "no-wait"), (e: EddyError) => e.code === ErrorCode.ClusterUnreachable);
  const waiting = connectNats(url, "waits", { waitMs: 20_000 });
  const dir = join(work, "late-server");
  mkdirSync(dir);
  const server = await startNatsServer({ port, storeDir: dir });
  cleanups.push(() => server.stop());
  const nc = await waiting;
  assert.equal(nc.info?.port, port);
  await nc.close();
});

test("eddy cluster --nats URL uses that server; if the cluster is SIGKILLed its processes stop by themselves", async () => {
  const nats = await startTestNats();
  cleanups.push(() => nats.stop());
  const prefix = `orphan${process.pid}`;
  const cluster = spawnEddy(["cluster", "--nats", nats.url, "--task-executors", "2", "--slots", "1"], { prefix });
  cleanups.push(() => cluster.kill());
  assert.match(await cluster.waitForLine(/^eddy cluster ready /, 90_000), new RegExp(`^eddy cluster ready nats=${nats.url} web=http://127\\.0\\.0\\.1:\\d+$`));
  const r = await runEddy(["info", "--json"], { natsUrl: nats.url, prefix });
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout) as ClusterInfo;
  assert.equal(info.taskExecutors.length, 2);
  const pids = [info.leaders.dispatcher!.pid, ...info.taskExecutors.map((t) => t.pid)];
  cleanups.push(() => pids.forEach((p) => pidAlive(p) && process.kill(p, "SIGKILL")));
  cluster.kill();
  await cluster.waitForExit(10_000);
  assert.deepEqual(await waitGone(pids, 30_000), [], "orphaned JobManager/TaskExecutors noticed and stopped");
});

test("eddy cluster: --nats and --port exclude each other (exit 2)", async () => {
  const r = await runEddy(["cluster", "--nats", "nats://127.0.0.1:1", "--port", "0"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exclude each other/);
});

test("eddy cluster --insecure --data-dir makes a directory that does not exist yet, and keeps it", async () => {
  const dir = join(work, "not-yet", "data");
  const cluster = spawnEddy(["cluster", "--insecure", "--port", "0", "--web-port", "-1", "--task-executors", "1", "--slots", "1", "--data-dir", dir], {
    prefix: "newdir",
  });
  cleanups.push(() => cluster.kill());
  assert.match(await cluster.waitForLine(/^eddy cluster ready /, 90_000), /^eddy cluster ready nats=nats:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(existsSync(join(dir, "nats.conf")), "the server's config is in the new directory");
  cluster.signal("SIGTERM");
  assert.equal((await cluster.waitForExit(30_000)).code, 0);
  assert.ok(existsSync(join(dir, "jetstream")), "a data dir the user named is kept");
});
