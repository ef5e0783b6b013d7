/**
 * Bad input at the Dispatcher's public API: every refusal carries its stable code and a message that
 * says what to fix, and leaves the cluster as it was (same jobs, nothing persisted).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import { newId } from "../../src/core/ids.js";
import { EddyError } from "../../src/core/errors.js";
import {
  awaitResult,
  kvKeys,
  rawRequest,
  runToCompletion,
  sequenceJob,
  startInProcessCluster,
  waitUntilRunning,
  type InProcessCluster,
} from "../helpers/in-process-cluster.js";

let c: InProcessCluster;

before(async () => {
  c = await startInProcessCluster({ taskExecutors: 1, slots: 2, maxPayload: 4 * 1024 * 1024 });
});
after(async () => {
  await c?.stop();
});

const subject = (m: string) => `${c.prefix}.dispatcher.${m}`;
const bucket = () => `${c.prefix}_jobgraphs`;

async function snapshot() {
  return { jobs: await c.dispatcher.ask<unknown[]>("listJobs", {}), plans: await kvKeys(c.nc, bucket()) };
}

/** Runs `call`, expects a refusal with `code` and a message matching `message`, and an unchanged cluster. */
async function refused(call: () => Promise<unknown>, code: string, message: RegExp): Promise<EddyError> {
  const beforeState = await snapshot();
  const err = await call().then(
    (v) => assert.fail(`expected ${code}, got the reply ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof EddyError, `expected an EddyError, got ${String(err)}`);
  assert.equal(err.code, code, `code (message: ${err.message})`);
  assert.match(err.message, message);
  assert.deepEqual(await snapshot(), beforeState, "the cluster changed after a refused request");
  return err;
}

/** A raw refusal: checks the Eddy-Error header, the encoding of the reply, the code and the message. */
async function rawRefused(method: string, body: Uint8Array | unknown, json: boolean, code: string, message: RegExp) {
  return refused(
    async () => {
      const r = await rawRequest(c.nc, subject(method), body, { json });
      assert.equal(r.isError, true, `reply carries Eddy-Error: 1 (${JSON.stringify(r.value)})`);
      assert.equal(r.json, json, `reply encoded as ${json ? "JSON" : "MessagePack"}`);
      assert.equal(typeof r.value.error?.message, "string");
      throw new EddyError(r.value.error.code, r.value.error.message);
    },
    code,
    message,
  );
}

const good = () => sequenceJob("good", 999);
function withVertex(patch: Record<string, unknown>) {
  const g = good() as { vertices: Record<string, unknown>[] };
  g.vertices[0] = { ...g.vertices[0], ...patch };
  return g;
}

test("a truncated MessagePack body is refused as MalformedRequest", async () => {
  await rawRefused("submitJob", Uint8Array.from([0x92, 0x01]), false, "MalformedRequest", /not valid MessagePack/);
});

test("a MessagePack body holding the never-used byte 0xc1 is refused as MalformedRequest", async () => {
  await rawRefused("submitJob", Uint8Array.from([0xc1]), false, "MalformedRequest", /not valid MessagePack/);
});

test("malformed JSON under the JSON content type is refused as MalformedRequest, answered in JSON", async () => {
  await rawRefused("submitJob", new TextEncoder().encode('{"name": "x", '), true, "MalformedRequest", /not valid JSON/);
});

test("schema violations are refused as InvalidJobGraph naming the JSON path", async () => {
  const { name: _n, ...noName } = good();
  await refused(() => c.dispatcher.ask("submitJob", noName), "InvalidJobGraph", /^\$: missing required property "name"/);
  await refused(() => c.dispatcher.ask("submitJob", { ...good(), vertices: { src: {} } }), "InvalidJobGraph", /^\$\.vertices: must be array, got object/);
  await refused(() => c.dispatcher.ask("submitJob", { ...good(), colour: "red" }), "InvalidJobGraph", /^\$: unknown property "colour"; allowed: .*name/);
  await refused(() => c.dispatcher.ask("submitJob", withVertex({ id: "bad id!" })), "InvalidJobGraph", /^\$\.vertices\[0\]\.id: must match .*"bad id!"/);
  // The same through JSON: the refusal comes back in JSON.
  await rawRefused("submitJob", { ...good(), colour: "red" }, true, "InvalidJobGraph", /\$: unknown property "colour"/);
});

test("an unknown invokable is refused as UnknownInvokable listing the known ones", async () => {
  await refused(() => c.dispatcher.ask("submitJob", withVertex({ invokable: "source.nope" })), "UnknownInvokable", /"source\.nope".*source\.sequence/);
});

test("a cycle is refused as CyclicJobGraph naming the vertices on it", async () => {
  const g = {
    name: "cycle",
    vertices: [
      { id: "src", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 9 } },
      { id: "a", invokable: "op.identity", parallelism: 1 },
      { id: "b", invokable: "op.identity", parallelism: 1 },
      { id: "sink", invokable: "sink.discard", parallelism: 1 },
    ],
    edges: [
      { source: "src", target: "a", partitioner: "forward" },
      { source: "a", target: "b", partitioner: "forward" },
      { source: "b", target: "a", partitioner: "forward" },
      { source: "b", target: "sink", partitioner: "forward" },
    ],
  };
  await refused(() => c.dispatcher.ask("submitJob", g), "CyclicJobGraph", /(a -> b -> a|b -> a -> b).*acyclic/);
});

test("an edge to a vertex that does not exist is refused as DanglingEdge", async () => {
  const g = good() as { edges: unknown[] };
  g.edges.push({ source: "src", target: "ghost", partitioner: "rebalance" });
  await refused(() => c.dispatcher.ask("submitJob", g), "DanglingEdge", /\$\.edges\[1\].*"ghost" does not exist/);
});

test("parallelism 0 and 40000 are refused as InvalidParallelism saying the bound", async () => {
  await refused(
    () => c.dispatcher.ask("submitJob", withVertex({ parallelism: 0 })),
    "InvalidParallelism",
    /\$\.vertices\[0\]\.parallelism: must be >= 1, got 0/,
  );
  await refused(
    () => c.dispatcher.ask("submitJob", withVertex({ parallelism: 40000 })),
    "InvalidParallelism",
    /\$\.vertices\[0\]\.parallelism: must be <= 32768, got 40000/,
  );
});

test("a 2 MB request is refused as PayloadTooLarge naming the 1 MiB limit", async () => {
  const big = { ...good(), name: "x".repeat(2 * 1024 * 1024) };
  await rawRefused("submitJob", big, true, "PayloadTooLarge", /exceeds the limit of 1048576 bytes/);
});

test("unknown job ids are refused as JobNotFound; a malformed job id as MalformedRequest", async () => {
  const jobId = newId();
  await refused(() => c.dispatcher.ask("requestJob", { jobId }), "JobNotFound", new RegExp(`no job ${jobId}`));
  await refused(() => c.dispatcher.ask("cancelJob", { jobId }), "JobNotFound", new RegExp(`no job ${jobId}`));
  await refused(() => c.dispatcher.ask("requestJobResult", { jobId }), "JobNotFound", new RegExp(`no job ${jobId}`));
  await refused(() => c.dispatcher.ask("requestJobResult", { jobId, timeoutMs: 500 }), "JobNotFound", new RegExp(`no job ${jobId}`));
  for (const m of ["requestJob", "cancelJob", "requestJobResult"]) {
    await refused(() => c.dispatcher.ask(m, { jobId: "../../etc" }), "MalformedRequest", /jobId: must match/);
    await refused(() => c.dispatcher.ask(m, {}), "MalformedRequest", /jobId: must be a string/);
  }
});

test("a job id that is running, and one that has finished, are refused as DuplicateJobId", async () => {
  const longId = newId();
  const { jobId } = await c.dispatcher.ask<{ jobId: string }>("submitJob", sequenceJob("long", 1e12, 1, longId));
  assert.equal(jobId, longId);
  await waitUntilRunning(c.dispatcher, longId);
  const kv = await new Kvm(c.nc).open(bucket());
  const revision = (await kv.get(longId))?.revision;
  assert.ok(revision, "the running job's graph is persisted");
  await refused(() => c.dispatcher.ask("submitJob", sequenceJob("again", 5, 1, longId)), "DuplicateJobId", /already running/);
  assert.equal((await kv.get(longId))?.revision, revision, "the persisted graph was not overwritten");
  assert.deepEqual(await c.dispatcher.ask("cancelJob", { jobId: longId }), { ok: true });
  assert.equal((await awaitResult(c.dispatcher, longId, 15_000)).state, "CANCELED");

  const doneId = newId();
  assert.equal((await runToCompletion(c.dispatcher, sequenceJob("short", 99, 1, doneId), 15_000)).state, "FINISHED");
  await refused(() => c.dispatcher.ask("submitJob", sequenceJob("again", 5, 1, doneId)), "DuplicateJobId", /already finished/);
  await refused(() => c.dispatcher.ask("submitJob", sequenceJob("again", 5, 1, longId)), "DuplicateJobId", /already finished/);
  const rows = await c.dispatcher.ask<Array<{ id: string; name: string; state: string }>>("listJobs", {});
  assert.deepEqual(
    rows.map((r) => [r.id, r.name, r.state]),
    [
      [longId, "long", "CANCELED"],
      [doneId, "short", "FINISHED"],
    ],
  );
});

test("an unknown dispatcher method is refused as UnknownMethod", async () => {
  await rawRefused("deleteEverything", {}, false, "UnknownMethod", /no method "deleteEverything"/);
  await rawRefused("deleteEverything", {}, true, "UnknownMethod", /no method "deleteEverything"/);
});

test("after every refusal a well-formed job still runs to FINISHED and nothing stays persisted", async () => {
  const r = await runToCompletion(c.dispatcher, sequenceJob("good-at-the-end", 9_999, 2), 20_000);
  assert.equal(r.state, "FINISHED");
  assert.equal(r.failure, null);
  assert.equal(r.accumulators["src.records-out"], 10_000);
  assert.deepEqual(await kvKeys(c.nc, bucket()), []);
});
