/** The NATS micro (ADR-32) bodies Eddy's services answer discovery with, field by field. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EndpointStats, MicroResponseType, ServiceInstance, parseDiscoverySubject } from "../../src/rpc/micro/index.js";

const IDENTITY_KEYS = ["id", "metadata", "name", "type", "version"];
const ENDPOINT_STATS_KEYS = ["average_processing_time", "last_error", "name", "num_errors", "num_requests", "processing_time", "queue_group", "subject"];

function service(): ServiceInstance {
  return new ServiceInstance({
    name: "eddy-dispatcher",
    version: "1.2.3",
    description: "Eddy dispatcher at eddy.dispatcher",
    metadata: { prefix: "eddy" },
    endpoints: [
      { name: "submitJob", subject: "eddy.dispatcher.submitJob", queueGroup: "" },
      { name: "requestJob", subject: "eddy.dispatcher.requestJob", queueGroup: "" },
    ],
  });
}

test("PING carries the identity only: type, name, id, version, metadata", () => {
  const s = service();
  const ping = s.ping();
  assert.deepEqual(Object.keys(ping).sort(), IDENTITY_KEYS);
  assert.equal(ping.type, "io.nats.micro.v1.ping_response");
  assert.equal(ping.type, MicroResponseType.Ping);
  assert.equal(ping.name, "eddy-dispatcher");
  assert.equal(ping.version, "1.2.3");
  assert.deepEqual(ping.metadata, { prefix: "eddy" });
  assert.match(ping.id, /^[A-Za-z0-9]{22}$/, "a NUID, as NATS clients make");
});

test("INFO adds the description and every endpoint with subject, queue group and metadata", () => {
  const info = service().info();
  assert.deepEqual(Object.keys(info).sort(), [...IDENTITY_KEYS, "description", "endpoints"].sort());
  assert.equal(info.type, "io.nats.micro.v1.info_response");
  assert.equal(info.description, "Eddy dispatcher at eddy.dispatcher");
  assert.deepEqual(info.endpoints, [
    { name: "submitJob", subject: "eddy.dispatcher.submitJob", queue_group: "", metadata: {} },
    { name: "requestJob", subject: "eddy.dispatcher.requestJob", queue_group: "", metadata: {} },
  ]);
});

test("STATS reports started (RFC 3339 UTC) and per-endpoint counters in nanoseconds", () => {
  const s = service();
  s.endpoint("requestJob")!.record(2); // 2 ms
  s.endpoint("requestJob")!.recordError(1, "JobNotFound", "no job x");
  const stats = s.stats();
  assert.deepEqual(Object.keys(stats).sort(), [...IDENTITY_KEYS, "endpoints", "started"].sort());
  assert.equal(stats.type, "io.nats.micro.v1.stats_response");
  assert.match(stats.started, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  assert.ok(Math.abs(Date.parse(stats.started) - Date.now()) < 60_000);
  const [submit, request] = stats.endpoints;
  for (const e of stats.endpoints) assert.deepEqual(Object.keys(e).sort(), ENDPOINT_STATS_KEYS);
  assert.deepEqual(submit, {
    name: "submitJob",
    subject: "eddy.dispatcher.submitJob",
    queue_group: "",
    num_requests: 0,
    num_errors: 0,
    last_error: "",
    processing_time: 0,
    average_processing_time: 0,
  });
  assert.equal(request!.num_requests, 2, "a refused request is a request too");
  assert.equal(request!.num_errors, 1);
  assert.equal(request!.last_error, "JobNotFound: no job x");
  assert.equal(request!.processing_time, 3_000_000);
  assert.equal(request!.average_processing_time, 1_500_000);
  assert.ok(Number.isInteger(request!.processing_time) && Number.isInteger(request!.average_processing_time), "whole nanoseconds");
});

test("the responses are plain JSON: what is serialized parses back equal", () => {
  const s = service();
  for (const body of [s.ping(), s.info(), s.stats()]) assert.deepEqual(JSON.parse(JSON.stringify(body)), body);
});

test("metadata is fixed: a caller changing a response's copy changes nothing", () => {
  const s = service();
  s.ping().metadata.prefix = "other";
  assert.equal(s.ping().metadata.prefix, "eddy");
  assert.throws(() => {
    (s.metadata as Record<string, string>).prefix = "other";
  }, TypeError);
});

test("each instance gets its own id; a name outside [A-Za-z0-9_-] is refused", () => {
  assert.notEqual(service().id, service().id);
  for (const name of ["eddy.dispatcher", "eddy dispatcher", "", "eddy*"])
    assert.throws(() => new ServiceInstance({ name, version: "0.1.0", description: "", metadata: {}, endpoints: [] }), /does not match/);
});

test("an instance answers requests for all, for its name, and for its name and id only", () => {
  const s = service();
  assert.equal(s.matches(undefined, undefined), true);
  assert.equal(s.matches("eddy-dispatcher", undefined), true);
  assert.equal(s.matches("eddy-dispatcher", s.id), true);
  assert.equal(s.matches("eddy-resourcemanager", undefined), false);
  assert.equal(s.matches("eddy-dispatcher", "someone-else"), false);
});

test("discovery subjects: $SRV.<VERB>[.<name>[.<id>]] with PING, INFO, STATS; anything else is none", () => {
  assert.deepEqual(parseDiscoverySubject("$SRV.PING"), { verb: "PING" });
  assert.deepEqual(parseDiscoverySubject("$SRV.INFO.eddy-jobmaster"), { verb: "INFO", name: "eddy-jobmaster" });
  assert.deepEqual(parseDiscoverySubject("$SRV.STATS.eddy-jobmaster.abc"), { verb: "STATS", name: "eddy-jobmaster", id: "abc" });
  for (const s of ["$SRV", "$SRV.ping", "$SRV.SCHEMA", "$SRV.PING.a.b.c", "SRV.PING", "$JS.API.INFO"]) assert.equal(parseDiscoverySubject(s), undefined, s);
});

test("an endpoint's counters start at zero and average over every request", () => {
  const e = new EndpointStats("m", "p.x.m", "q");
  assert.equal(e.stats().average_processing_time, 0);
  e.record(0.5);
  e.record(1.5);
  assert.deepEqual(e.stats(), {
    name: "m",
    subject: "p.x.m",
    queue_group: "q",
    num_requests: 2,
    num_errors: 0,
    last_error: "",
    processing_time: 2_000_000,
    average_processing_time: 1_000_000,
  });
  assert.deepEqual(e.info(), { name: "m", subject: "p.x.m", queue_group: "q", metadata: {} });
});
