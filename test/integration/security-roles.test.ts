/**
 * Roles enforced by the NATS server, against a secured `eddy cluster` (its default): its own
 * processes run under the jobmanager and worker roles, jobs submitted with client rights run end to
 * end, and every right a role must not have is tried and refused by the server (a permissions
 * violation) or answered with an error code, changing nothing. Bad credentials exit 3. A remote actor
 * function runs with the function role.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, jetstreamManager } from "@nats-io/jetstream";
import { waitFor, withTimeout } from "../../src/core/time.js";
import { subscribeProtocol } from "../../src/rpc/stream-delivery.js";
import { connectNats } from "../../src/rpc/nats.js";
import { Gateway } from "../../src/rpc/gateway.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { encode } from "../../src/codec/codec.js";
import { isPermissionDenied } from "../../src/jetstream/index.js";
import { authOf, readContext } from "../../src/security/context.js";
import { ROLES, type Role } from "../../src/security/roles.js";
import { runEddy, spawnEddy, type EddyProcess } from "../helpers/eddy-process.js";
import { parseReadyLine } from "../helpers/cluster-ready.js";
import { assertExactlyOnce, committedLines } from "../helpers/keyed-counter.js";
import { withCode } from "../helpers/error-code.js";
import { checkApplied, transfers, writeTransfers } from "../helpers/bank.js";
import { serveAccounts } from "../../examples/bank-function.js";

const work = mkdtempSync(join(tmpdir(), "eddy-security-roles-"));
const prefix = `sec${process.pid}`;
const subjects = new Subjects(prefix);
let cluster: EddyProcess;
let url = "";
let web = "";
let contexts = "";
const conns: NatsConnection[] = [];

const contextOf = (role: Role) => join(contexts, `${role}.json`);
async function connectAs(role: Role): Promise<NatsConnection> {
  const nc = await connectNats(url, `security-test-${role}`, { auth: authOf(readContext(contextOf(role))), reconnect: false });
  conns.push(nc);
  return nc;
}

/** A request the server must refuse to publish: nats.js rejects it with the server's permissions violation. */
async function publishRefused(nc: NatsConnection, subject: string, body: Uint8Array = new Uint8Array(0)): Promise<void> {
  await assert.rejects(nc.request(subject, body, { timeout: 10_000 }), (err: unknown) => {
    assert.ok(isPermissionDenied(err), `publishing to ${subject} must be a permissions violation, got ${(err as Error).message}`);
    return true;
  });
}

/** A subscription the server must refuse: the callback gets its permissions violation. */
async function subscribeRefused(nc: NatsConnection, subject: string): Promise<void> {
  const err = await new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`subscribing to ${subject}: no refusal within 10 s`)), 10_000);
    nc.subscribe(subject, {
      callback: (e: Error | null, _m: Msg) => {
        clearTimeout(timer);
        resolve(e);
      },
    });
  });
  assert.ok(isPermissionDenied(err), `subscribing to ${subject} must be a permissions violation, got ${String(err)}`);
}

before(async () => {
  cluster = spawnEddy(["cluster", "--port", "0", "--web-port", "0", "--task-executors", "1", "--slots", "2", "--data-dir", join(work, "data")], { prefix });
  const ready = parseReadyLine(await cluster.waitForLine(/^eddy cluster ready /, 90_000));
  assert.ok(ready.context, "a secured cluster names its admin context");
  url = ready.nats;
  web = ready.web ?? "";
  contexts = dirname(ready.context);
});

after(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  await cluster?.stop(30_000).catch(() => cluster.kill());
  rmSync(work, { recursive: true, force: true });
});

test("eddy cluster writes a context per role (mode 0600) and a bcrypt-hashed authorization block", () => {
  assert.deepEqual(readdirSync(contexts).sort(), ROLES.map((r) => `${r}.json`).sort());
  for (const role of ROLES) {
    assert.equal(statSync(contextOf(role)).mode & 0o777, 0o600, `${role}.json is the owner's only`);
    const ctx = readContext(contextOf(role));
    assert.equal(ctx.url, url);
    assert.ok(ctx.user && ctx.password && ctx.password.length >= 32, `${role} has a random password`);
  }
  assert.ok(readContext(contextOf("admin")).eddy_web_token, "the admin context holds the web token");
  const auth = readFileSync(join(contexts, "..", "nats-auth.conf"), "utf8");
  for (const role of ROLES) assert.ok(!auth.includes(readContext(contextOf(role)).password!), `no clear password of ${role} in the server's config`);
  assert.equal((auth.match(/password: "\$2[aby]\$04\$/g) ?? []).length, ROLES.length, "every password is stored bcrypt-hashed");
});

test("with client rights WordCount and keyed-counter run end to end on the secured cluster", async () => {
  const env = { natsUrl: url, prefix, env: { EDDY_CONTEXT: contextOf("client") }, timeoutMs: 90_000 };
  const input = join(work, "in.txt");
  writeFileSync(input, "to be or not to be\n");
  const wc = await runEddy(["run", "examples/wordcount.ts", "--", "--input", input, "--output", join(work, "wc")], env);
  assert.equal(wc.code, 0, wc.stdout + wc.stderr);
  const words = committedLines(join(work, "wc")).sort();
  assert.deepEqual(words, ["be 2", "not 1", "or 1", "to 2"]);
  const kc = await runEddy(
    ["run", "examples/keyed-counter.ts", "--", "--events", "500", "--keys", "5", "--checkpoint-interval", "100", "--output", join(work, "kc")],
    env,
  );
  assert.equal(kc.code, 0, kc.stdout + kc.stderr);
  assertExactlyOnce(join(work, "kc"), 500, 5);
});

test("a client cannot subscribe to any Eddy subject, register a TaskExecutor, write the HA stores or touch JetStream but its upload path", async () => {
  const nc = await connectAs("client");
  for (const s of [
    `${subjects.dispatcher}.>`,
    `${prefix}.te.>`,
    `${prefix}.task.>`,
    `${prefix}.data.>`,
    `${prefix}.rm.>`,
    `$KV.${prefix}_leases.>`,
    "_INBOX.>",
  ])
    await subscribeRefused(nc, s);
  await subscribeRefused(nc, `_INBOX_${prefix}_jobmanager.>`);
  await publishRefused(nc, `${subjects.resourceManager}.registerTaskExecutor`, encode({ taskExecutorId: "te_evil", slots: 8 }));
  await publishRefused(nc, `$KV.${prefix}_leases.jobmanager`, encode({ holder: "evil" }));
  await publishRefused(nc, `$KV.${prefix}_jobgraphs.x`);
  await publishRefused(nc, `$JS.API.STREAM.DELETE.OBJ_${prefix}_state`);
  await publishRefused(nc, `$JS.API.STREAM.PURGE.OBJ_${prefix}_bundles`);
  await publishRefused(nc, `$JS.API.CONSUMER.CREATE.KV_${prefix}_jobgraphs`);
  await publishRefused(nc, `$JS.API.STREAM.CREATE.evil`, encode({ name: "evil", subjects: [`${prefix}.dispatcher.>`] }));
});

test("a worker cannot answer or call the Dispatcher API, write the lease or the HA stores, upload bundles or delete streams", async () => {
  const nc = await connectAs("worker");
  await subscribeRefused(nc, `${subjects.dispatcher}.submitJob`);
  await subscribeRefused(nc, `${subjects.dispatcher}.>`);
  await publishRefused(nc, `${subjects.dispatcher}.listJobs`, encode({}));
  await publishRefused(nc, `$KV.${prefix}_leases.jobmanager`, encode({ holder: "evil" }));
  for (const b of ["leaders", "jobgraphs", "jobresults", "checkpoints"]) await publishRefused(nc, `$KV.${prefix}_${b}.x`);
  await publishRefused(nc, `$O.${prefix}_bundles.C.evil`);
  for (const s of [`OBJ_${prefix}_state`, `KV_${prefix}_leases`, `OBJ_${prefix}_bundles`]) {
    await publishRefused(nc, `$JS.API.STREAM.DELETE.${s}`);
    await publishRefused(nc, `$JS.API.STREAM.PURGE.${s}`);
    await publishRefused(nc, `$JS.API.STREAM.UPDATE.${s}`);
  }
  await publishRefused(nc, `$JS.API.STREAM.MSG.DELETE.KV_${prefix}_leases`);
  await publishRefused(nc, `$JS.API.STREAM.CREATE.evil`, encode({ name: "evil", subjects: [`${prefix}.dispatcher.>`] }));
});

test("a remote actor function with the function role serves the bank's accounts for a client's job, and may do nothing else", async () => {
  const fn = await connectAs("function");
  const served = serveAccounts(fn, prefix);
  const ts = transfers(300, 10, 3);
  const input = join(work, "transfers.jsonl");
  writeTransfers(input, ts);
  const env = { natsUrl: url, prefix, env: { EDDY_CONTEXT: contextOf("client") }, timeoutMs: 90_000 };
  const r = await runEddy(["run", "examples/bank.ts", "--", "--input", input, "--output", join(work, "bank"), "--remote"], env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  checkApplied(committedLines(join(work, "bank")), ts);
  assert.ok(served.requests > 0);
  const nc = await connectAs("function");
  for (const s of [
    `${subjects.dispatcher}.>`,
    `${prefix}.task.>`,
    `${prefix}.te.>`,
    `${prefix}.data.>`,
    `_INBOX_${prefix}_client.>`,
    `_INBOX_${prefix}_worker.>`,
  ])
    await subscribeRefused(nc, s);
  await publishRefused(nc, `${subjects.dispatcher}.listJobs`, encode({}));
  await publishRefused(nc, `${prefix}.fn.account`, encode({}));
  await publishRefused(nc, `$KV.${prefix}_leases.jobmanager`, encode({ holder: "evil" }));
  await publishRefused(nc, `$JS.API.STREAM.INFO.OBJ_${prefix}_state`);
});

test("a viewer reads the cluster and its jobs but cannot submit, cancel or trigger a savepoint", async () => {
  const nc = await connectAs("viewer");
  const dispatcher = new Gateway(nc, subjects.dispatcher);
  const jobs = await dispatcher.ask<Array<{ id: string }>>("listJobs", {});
  assert.ok(jobs.length >= 2, "the jobs of the test above");
  await dispatcher.ask("requestJob", { jobId: jobs[0]!.id });
  await dispatcher.ask("clusterInfo", {});
  await assert.rejects(dispatcher.ask("submitJob", { name: "x", vertices: [], edges: [] }), withCode("PermissionDenied"));
  await assert.rejects(dispatcher.ask("cancelJob", { jobId: jobs[0]!.id }), withCode("PermissionDenied"));
  await assert.rejects(dispatcher.ask("triggerSavepoint", { jobId: jobs[0]!.id }), withCode("PermissionDenied"));
  const r = await runEddy(["run", "examples/wordcount.ts", "--", "--input", "x", "--output", join(work, "nope")], {
    natsUrl: url,
    prefix,
    env: { EDDY_CONTEXT: contextOf("viewer") },
  });
  assert.equal(r.code, 1, "a viewer's submission is refused (exit 1)");
  assert.match(r.stderr, /^error PermissionDenied: /m);
});

test("the refused attempts changed nothing: the same leader serves, the lease is its, the state bucket is whole", async () => {
  const admin = await connectAs("admin");
  const jsm = await jetstreamManager(admin);
  for (const s of [`OBJ_${prefix}_state`, `OBJ_${prefix}_bundles`, `KV_${prefix}_leases`, `KV_${prefix}_jobgraphs`]) await jsm.streams.info(s);
  await assert.rejects(jsm.streams.info("evil"), "no stream was created");
  const info = await new Gateway(admin, subjects.dispatcher).ask<{ taskExecutors: Array<{ id: string }> }>("clusterInfo", {});
  assert.deepEqual(
    info.taskExecutors.map((t) => t.id.startsWith("te_evil")),
    [false],
    "no TaskExecutor was registered by a client",
  );
});

test("a push consumer a worker points at a subject delivers with the server's ack reply, and Eddy's subscriptions drop such messages", async () => {
  const admin = await connectAs("admin");
  const worker = await connectAs("worker");
  // The threat: a worker may write state chunks and create consumers, so it can store bytes and have
  // the server deliver them to any subject with interest, past its own publish permissions.
  const target = `${prefix}.data.replay${process.pid}`;
  const seen = new Promise<Msg>((resolve) => admin.subscribe(target, { max: 1, callback: (_e, m) => resolve(m) }));
  await admin.flush();
  const chunk = `$O.${prefix}_state.C.replay${process.pid}`;
  await worker.request(chunk, encode({ forged: true }), { timeout: 10_000 });
  const jsm = await jetstreamManager(worker);
  const consumer = await jsm.consumers.add(`OBJ_${prefix}_state`, {
    deliver_subject: target,
    filter_subject: chunk,
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
  });
  const delivered = await withTimeout(seen, 10_000, "the push consumer's delivery");
  assert.match(delivered.reply ?? "", /^\$JS\.ACK\./, "a stream delivery carries the server's ack subject as reply, even without acks");
  await jsm.consumers.delete(`OBJ_${prefix}_state`, consumer.name);

  // The defense: every Eddy subscription (actors, data plane, metrics, liveness) is made with
  // subscribeProtocol, which drops stream deliveries. Delivered again beside a plain publish, the
  // guarded subscription sees only the publish; a plain subscription on the same connection, which
  // gets every message in the same order, shows when both have been offered.
  const guarded: string[] = [];
  const plain: string[] = [];
  const target2 = `${target}.again`;
  const guard = subscribeProtocol(admin, target2, (m) => void guarded.push(m.reply ? "delivery" : "publish"));
  const all = admin.subscribe(target2, { callback: (_e, m) => void plain.push(m.reply ? "delivery" : "publish") });
  await admin.flush();
  const again = await jsm.consumers.add(`OBJ_${prefix}_state`, {
    deliver_subject: target2,
    filter_subject: chunk,
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
  });
  await waitFor(async () => (plain.includes("delivery") ? true : undefined), 10_000, "the second delivery");
  admin.publish(target2, encode({ plain: true }));
  await waitFor(async () => (plain.length >= 2 ? true : undefined), 10_000, "the plain publish");
  assert.deepEqual(guarded, ["publish"], "the stream delivery was dropped, the publish passed");
  guard.unsubscribe();
  all.unsubscribe();
  await jsm.consumers.delete(`OBJ_${prefix}_state`, again.name);
});

test("the dashboard's writes need the token of the admin context; reads on loopback do not", async () => {
  const token = readContext(contextOf("admin")).eddy_web_token!;
  const job = "0123456789abcdef0123456789abcdef";
  const write = (auth?: string) =>
    fetch(`${web}/jobs/${job}?mode=cancel`, { method: "PATCH", ...(auth ? { headers: { Authorization: `Bearer ${auth}` } } : {}) });
  assert.equal((await write()).status, 401);
  assert.equal((await write("not-the-token-at-all")).status, 401);
  assert.equal((await write(token)).status, 404, "with the token the write reaches the API (no such job)");
  assert.equal((await fetch(`${web}/overview`)).status, 200);
});

test("no credentials or a wrong password: the connection is refused and every command exits 3 saying so", async () => {
  const anonymous = await runEddy(["list"], { natsUrl: url, prefix });
  assert.equal(anonymous.code, 3);
  assert.match(anonymous.stderr, /^error NotAuthenticated: .*none were given/m);
  const wrong = join(work, "wrong.json");
  writeFileSync(wrong, JSON.stringify({ ...readContext(contextOf("client")), password: "not-the-password" }));
  for (const args of [["list"], ["info"], ["taskexecutor"]]) {
    const r = await runEddy([...args, "--context", wrong], { natsUrl: "nats://127.0.0.1:1", prefix, timeoutMs: 30_000 });
    assert.equal(r.code, 3, `eddy ${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /NotAuthenticated/);
  }
  const missing = await runEddy(["list", "--context", join(work, "missing.json")], { natsUrl: url, prefix });
  assert.equal(missing.code, 2, "an unreadable context file is a usage error");
});
