/**
 * The actor kernel as a NATS micro service (ADR-32), on a real nats-server: which actors answer
 * `$SRV.PING/INFO/STATS`, what their endpoint counters count, and that a fenced-off or stopped actor
 * is gone from discovery at once.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Empty } from "@nats-io/transport-node";
import { Actor, type MethodSpec } from "../../src/rpc/actor.js";
import { Gateway } from "../../src/rpc/gateway.js";
import { Header } from "../../src/rpc/headers.js";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { encode } from "../../src/codec/codec.js";
import type { EddyError } from "../../src/core/errors.js";
import { packageVersion } from "../../src/core/package.js";
import type { InfoResponse, PingResponse, StatsResponse } from "../../src/rpc/micro/index.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { askInstance, discover, discoverUntil } from "../helpers/micro-discovery.js";

class Probe extends Actor {
  constructor(
    readonly address: string,
    private readonly nc: NatsConnection,
    private readonly role?: string,
  ) {
    super();
  }
  protected override fencingToken() {
    return "the-token";
  }
  start() {
    this.serve(this.nc, this.role ? { service: { role: this.role, metadata: { extra: "yes" } } } : {});
  }
  protected methods(): Record<string, MethodSpec> {
    return {
      echo: { fence: "none", handle: (b: unknown) => b },
      guarded: { fence: "leader", handle: () => ({ ok: true }) },
      boom: {
        fence: "none",
        handle: () => {
          throw new Error("handler broke");
        },
      },
    };
  }
}

let nats: TestNats;
let serverNc: NatsConnection;
let client: NatsConnection;
let alpha: Probe;
let beta: Probe;
let task: Probe;

before(async () => {
  nats = await startTestNats();
  serverNc = await connectNats(nats.url, "actors");
  client = await connectNats(nats.url, "tools");
  alpha = new Probe("k1.alpha", serverNc, "alpha");
  beta = new Probe("k1.jm.job-1", serverNc, "beta");
  task = new Probe("k1.task.attempt-1", serverNc);
  for (const a of [alpha, beta, task]) a.start();
  await serverNc.flush();
});
after(async () => {
  for (const a of [alpha, beta, task]) await a?.stopActor();
  await serverNc?.close();
  await client?.close();
  await nats?.stop();
});

test("each served service answers $SRV.PING as <prefix>-<role>; an actor served without a service is not listed", async () => {
  const pings = await discoverUntil(client, "$SRV.PING", (r) => r.length >= 2, "two services answered");
  assert.deepEqual(pings.map((p) => p.name).sort(), ["k1-alpha", "k1-beta"]);
  const a = pings.find((p) => p.name === "k1-alpha")!;
  assert.equal(a.type, "io.nats.micro.v1.ping_response");
  assert.equal(a.version, packageVersion());
  assert.deepEqual(a.metadata, { extra: "yes", prefix: "k1", address: "k1.alpha", pid: String(process.pid) });
  assert.equal(a.id, alpha.serviceInstance!.id);
  assert.equal(task.serviceInstance, undefined);
  // By name, and by name and id: only that instance.
  const byName = await discoverUntil(client, "$SRV.PING.k1-beta", (r) => r.length >= 1, "k1-beta answered");
  assert.deepEqual(
    byName.map((p) => p.id),
    [beta.serviceInstance!.id],
  );
  assert.equal((await askInstance<PingResponse>(client, "PING", "k1-alpha", a.id)).id, a.id);
  assert.deepEqual(await discover(client, "$SRV.PING.k1-alpha.not-its-id", 300), []);
});

test("$SRV.INFO.<name> lists the actor's methods as endpoints on <address>.<method>", async () => {
  const [info, ...more] = await discoverUntil<InfoResponse>(client, "$SRV.INFO.k1-beta", (r) => r.length >= 1, "k1-beta answered");
  assert.equal(more.length, 0);
  assert.equal(info!.type, "io.nats.micro.v1.info_response");
  assert.equal(info!.description, "Eddy beta at k1.jm.job-1");
  assert.deepEqual(
    info!.endpoints.map((e) => [e.name, e.subject, e.queue_group]),
    [
      ["echo", "k1.jm.job-1.echo", ""],
      ["guarded", "k1.jm.job-1.guarded", ""],
      ["boom", "k1.jm.job-1.boom", ""],
    ],
  );
});

test("$SRV.STATS counts requests, refusals and failures per endpoint; error replies carry the Nats-Service-Error headers", async () => {
  const gw = new Gateway(client, "k1.alpha");
  for (let i = 0; i < 3; i++) assert.deepEqual(await gw.ask("echo", { i }), { i });
  await assert.rejects(gw.ask("guarded", {}), (e: EddyError) => e.code === "FencingTokenMismatch");
  assert.deepEqual(await gw.ask("guarded", {}, { token: "the-token" }), { ok: true });
  await assert.rejects(gw.ask("boom", {}), (e: EddyError) => e.code === "InternalError");
  await assert.rejects(gw.ask("noSuchMethod", {}), (e: EddyError) => e.code === "UnknownMethod");

  const refusal = await client.request("k1.alpha.guarded", encode({}), { timeout: 5_000 });
  assert.equal(refusal.headers?.get(Header.ServiceErrorCode), "400");
  assert.match(refusal.headers?.get(Header.ServiceError) ?? "", /^FencingTokenMismatch: message to k1\.alpha carries no fencing token$/);
  const failure = await client.request("k1.alpha.boom", encode({}), { timeout: 5_000 });
  assert.equal(failure.headers?.get(Header.ServiceErrorCode), "500");

  const stats = await askInstance<StatsResponse>(client, "STATS", "k1-alpha", alpha.serviceInstance!.id);
  assert.equal(stats.type, "io.nats.micro.v1.stats_response");
  assert.ok(Date.parse(stats.started) <= Date.now());
  const ep = Object.fromEntries(stats.endpoints.map((e) => [e.name, e]));
  assert.deepEqual(Object.keys(ep), ["echo", "guarded", "boom"], "an unknown method is no endpoint and counts nowhere");
  assert.deepEqual([ep.echo!.num_requests, ep.echo!.num_errors, ep.echo!.last_error], [3, 0, ""]);
  assert.deepEqual([ep.guarded!.num_requests, ep.guarded!.num_errors], [3, 2]);
  assert.match(ep.guarded!.last_error, /^FencingTokenMismatch: /);
  assert.deepEqual([ep.boom!.num_requests, ep.boom!.num_errors, ep.boom!.last_error], [2, 2, "InternalError: handler broke"]);
  for (const e of Object.values(ep)) {
    assert.ok(e.processing_time > 0, `${e.name}: time was spent`);
    assert.equal(e.average_processing_time, Math.round(e.processing_time / e.num_requests));
  }
  // The other service on the same connection counted nothing of this.
  const betaStats = (await client.request("$SRV.STATS.k1-beta", Empty, { timeout: 5_000 })).json<StatsResponse>();
  assert.ok(betaStats.endpoints.every((e) => e.num_requests === 0));
});

test("discovery subjects of other verbs or shapes get no answer and break nothing", async () => {
  for (const subject of ["$SRV.SCHEMA", "$SRV.ping", "$SRV.PING.k1-alpha.x.y", "$SRV.INFO.k1-nobody"]) {
    client.publish(subject, Empty);
    assert.deepEqual(await discover(client, subject, 300), [], subject);
  }
  client.publish("$SRV.PING", encode({ junk: true })); // no reply subject: nothing to answer
  await client.flush();
  await discoverUntil(client, "$SRV.PING", (r) => r.length === 2, "both services still answer");
});

test("a fenced-off actor leaves discovery at once; when the last service stops, its connection stops listening", async () => {
  alpha.fenceOff();
  assert.deepEqual(await discover(client, "$SRV.PING.k1-alpha", 300), []);
  const left = await discoverUntil(client, "$SRV.PING", (r) => r.length >= 1, "k1-beta answered");
  assert.deepEqual(
    left.map((p) => p.name),
    ["k1-beta"],
  );
  await beta.stopActor();
  await serverNc.flush(); // the UNSUB reached the server before the request below
  // Nobody subscribes to $SRV.> any more: the server answers "no responders" at once.
  await assert.rejects(client.request("$SRV.PING", Empty, { timeout: 5_000 }), (e: Error) => /503|no responders/i.test(`${e.message} ${String(e.cause)}`));
});
