/**
 * The public NATS API spoken as plain JSON by a bare NATS client (no Eddy client code): a WordCount
 * made of built-in invokables, a failing job and a canceled one, with the reply shapes of docs/api.md.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { startInProcessCluster, type InProcessCluster } from "../helpers/in-process-cluster.js";

let c: InProcessCluster;
let nc: NatsConnection;
let dir: string;
let teIds: string[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "eddy-json-api-"));
  c = await startInProcessCluster({ taskExecutors: 2, slots: 2 });
  nc = await connect({ servers: c.natsUrl, name: "bare-json-client" });
  teIds = (await call("clusterInfo", {})).taskExecutors.map((t: { id: string }) => t.id);
});
after(async () => {
  await nc?.close().catch(() => undefined);
  await c?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One JSON request; returns the decoded reply (refusals included) after checking it is JSON. */
async function ask(method: string, body: unknown, timeoutMs = 5_000): Promise<any> {
  const h = headers();
  h.set("Content-Type", "application/json");
  const m = await nc.request(`${c.prefix}.dispatcher.${method}`, JSON.stringify(body), { headers: h, timeout: timeoutMs });
  assert.match(m.headers?.get("Content-Type") ?? "", /^application\/json/, `${method} reply Content-Type`);
  return JSON.parse(new TextDecoder().decode(m.data));
}
/** A JSON request that must succeed. */
async function call(method: string, body: unknown, timeoutMs?: number): Promise<any> {
  const r = await ask(method, body, timeoutMs);
  assert.equal(r?.error, undefined, `${method} refused: ${JSON.stringify(r?.error)}`);
  return r;
}
/** Long-polls requestJobResult until terminal (bounded). */
async function result(jobId: string, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await ask("requestJobResult", { jobId, timeoutMs: 3_000 }, 6_000);
    if (r.error?.code !== "JobResultNotReady") return r;
  }
  assert.fail(`job ${jobId} not terminal within ${timeoutMs} ms`);
}

/** The WordCount rule, written independently: only A-Z lowercased, words are maximal [a-z0-9_] runs. */
function expectedCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const lowered = text.replace(/[A-Z]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 32));
  for (const w of lowered.match(/[a-z0-9_]+/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

function assertOverview(row: any, id: string, name: string, state: string) {
  assert.deepEqual(Object.keys(row).sort(), ["endTime", "id", "name", "startTime", "state"]);
  assert.deepEqual([row.id, row.name, row.state], [id, name, state]);
  assert.ok(Number.isInteger(row.startTime) && row.startTime > Date.now() - 120_000, `startTime ${row.startTime}`);
  assert.ok(Number.isInteger(row.endTime) && row.endTime >= row.startTime, `endTime ${row.endTime}`);
}

function assertResultShape(r: any, jobId: string, state: string) {
  assert.deepEqual(Object.keys(r).sort(), ["accumulators", "failure", "jobId", "netRuntimeMs", "state"]);
  assert.equal(r.jobId, jobId);
  assert.equal(r.state, state);
  assert.ok(Number.isInteger(r.netRuntimeMs) && r.netRuntimeMs >= 0, `netRuntimeMs ${r.netRuntimeMs}`);
  assert.equal(typeof r.accumulators, "object");
}

const names: Record<string, [string, string]> = {};

test("a WordCount submitted as raw JSON finishes with correct counts and contract-shaped replies", async () => {
  const words = ["Hello", "HELLO", "hello", "World", "x2", "2x", "snake_case", "Straße", "naïve", "\u212Aelvin", "e-mail", "don't", "ÀB", "İi", "z9_Z"];
  const lines: string[] = [];
  for (let i = 0; i < 3_000; i++) {
    const n = 1 + (i % 7);
    const picked = Array.from({ length: n }, (_, k) => words[(i * 31 + k * 17) % words.length]!);
    lines.push(i % 50 === 0 ? "" : picked.join(i % 3 === 0 ? "  " : i % 3 === 1 ? ",\t" : " -- ") + (i % 11 === 0 ? "\r" : ""));
  }
  const text = `${lines.join("\n")}\n`;
  const input = join(dir, "input.txt");
  const output = join(dir, "out");
  writeFileSync(input, text);
  const expected = expectedCounts(text);
  const total = [...expected.values()].reduce((a, b) => a + b, 0);
  // The rule itself: non-ASCII letters and punctuation split words, only A-Z fold.
  assert.deepEqual(
    [...expectedCounts("Straße naïve \u212Aelvin İi ÀB z9_Z don't HeLLo").keys()],
    ["stra", "e", "na", "ve", "elvin", "i", "b", "z9_z", "don", "t", "hello"],
  );

  const spec = {
    name: "wordcount-json",
    vertices: [
      { id: "lines", name: "Read lines", invokable: "source.textFile", parallelism: 2, config: { path: input } },
      { id: "tokenize", invokable: "op.tokenize", parallelism: 2 },
      { id: "count", invokable: "op.keyedSum", parallelism: 3 },
      { id: "out", invokable: "sink.textFile", parallelism: 3, config: { path: output } },
    ],
    edges: [
      { source: "lines", target: "tokenize", partitioner: "forward" },
      { source: "tokenize", target: "count", partitioner: "hash", key: 0 },
      { source: "count", target: "out", partitioner: "forward" },
    ],
  };
  const submitted = await call("submitJob", spec);
  assert.deepEqual(Object.keys(submitted), ["jobId"]);
  assert.match(submitted.jobId, /^[0-9a-f]{32}$/);
  const jobId: string = submitted.jobId;
  names[jobId] = ["wordcount-json", "FINISHED"];

  const r = await result(jobId);
  assertResultShape(r, jobId, "FINISHED");
  assert.equal(r.failure, null);
  assert.equal(r.accumulators["lines.records-out"], lines.length);
  assert.equal(r.accumulators["tokenize.records-out"], total);
  assert.equal(r.accumulators["count.records-in"], total);
  assert.equal(r.accumulators["count.records-out"], expected.size);
  assert.equal(r.accumulators.records, expected.size);

  // The output: part-0..2 only, every distinct word once with its total count.
  assert.deepEqual(readdirSync(output).sort(), ["part-0", "part-1", "part-2"]);
  const got = new Map<string, number>();
  for (const f of readdirSync(output))
    for (const line of readFileSync(join(output, f), "utf8")
      .split("\n")
      .filter((l) => l !== "")) {
      const m = /^(\S+) (\d+)$/.exec(line);
      assert.ok(m, `output line ${JSON.stringify(line)} is "<word> <count>"`);
      assert.equal(got.has(m[1]!), false, `word ${m[1]} appears twice`);
      got.set(m[1]!, Number(m[2]));
    }
  assert.deepEqual(new Map([...got].sort()), new Map([...expected].sort()));
  assert.equal(got.get("kelvin"), undefined, "U+212A KELVIN SIGN is not a letter to lowercase");
  assert.ok((got.get("elvin") ?? 0) > 0 && (got.get("stra") ?? 0) > 0 && (got.get("snake_case") ?? 0) > 0);

  const d = await call("requestJob", { jobId });
  for (const k of ["id", "name", "state", "vertices", "checkpoints"]) assert.ok(k in d, `requestJob has ${k}`);
  assert.deepEqual([d.id, d.name, d.state], [jobId, "wordcount-json", "FINISHED"]);
  assert.deepEqual(d.checkpoints, { completed: 0, failed: 0, latest: null });
  assert.deepEqual(
    d.vertices.map((v: any) => [v.id, v.name, v.parallelism, v.maxParallelism, v.state]),
    // Forward edges between equal parallelism are chained into one task (Flink's operator chaining).
    [
      ["lines", "Read lines -> tokenize", 2, 128, "FINISHED"],
      ["count", "count -> out", 3, 128, "FINISHED"],
    ],
  );
  const used = new Set<string>();
  for (const v of d.vertices) {
    assert.deepEqual(
      v.subtasks.map((s: any) => [s.index, s.state, s.attempt]),
      Array.from({ length: v.parallelism }, (_, i) => [i, "FINISHED", 0]),
    );
    for (const s of v.subtasks) {
      assert.ok(teIds.includes(s.taskExecutor), `subtask on a known TaskExecutor, got ${s.taskExecutor}`);
      used.add(s.taskExecutor);
    }
  }
  assert.equal(used.size, 2, "three slots of two-slot TaskExecutors span both of them");
});

test("a textFile source on a missing path fails the job with a failure naming the path", async () => {
  const missing = join(dir, "no-such-dir", "missing.txt");
  const { jobId } = await call("submitJob", {
    name: "missing-input",
    vertices: [
      { id: "lines", invokable: "source.textFile", parallelism: 1, config: { path: missing } },
      { id: "sink", invokable: "sink.discard", parallelism: 1 },
    ],
    edges: [{ source: "lines", target: "sink", partitioner: "forward" }],
  });
  names[jobId] = ["missing-input", "FAILED"];
  const r = await result(jobId);
  assertResultShape(r, jobId, "FAILED");
  assert.equal(typeof r.failure?.code, "string");
  assert.ok(r.failure.message.includes(missing), `failure.message names the path: ${r.failure.message}`);
  assert.equal((await call("requestJob", { jobId })).state, "FAILED");
});

test("a running job canceled over JSON ends CANCELED, and listJobs shows every job", async () => {
  const { jobId } = await call("submitJob", {
    name: "endless",
    vertices: [
      { id: "src", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 1e12 } },
      { id: "sink", invokable: "sink.discard", parallelism: 1 },
    ],
    edges: [{ source: "src", target: "sink", partitioner: "forward" }],
  });
  names[jobId] = ["endless", "CANCELED"];
  const deadline = Date.now() + 15_000;
  while ((await call("requestJob", { jobId })).state !== "RUNNING") {
    assert.ok(Date.now() < deadline, "job RUNNING within 15 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  const running = (await call("listJobs", {})).find((row: any) => row.id === jobId);
  assert.deepEqual([running.state, running.endTime], ["RUNNING", null]);
  const notReady = await ask("requestJobResult", { jobId });
  assert.equal(notReady.error?.code, "JobResultNotReady");
  assert.deepEqual(await call("cancelJob", { jobId }), { ok: true });
  const r = await result(jobId);
  assertResultShape(r, jobId, "CANCELED");

  const rows = await call("listJobs", {});
  assert.equal(rows.length, 3);
  for (const row of rows) assertOverview(row, row.id, ...(names[row.id] ?? ["?", "?"]));
  assert.deepEqual(
    rows.map((row: any) => names[row.id]?.[0]),
    ["wordcount-json", "missing-input", "endless"],
  );
});
