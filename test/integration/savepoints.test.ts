import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadJob } from "../../src/sdk/load-job.js";
import { packageRoot } from "../../src/cluster/paths.js";
import { Kvm } from "@nats-io/kv";
import { jetstreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import { startInProcessCluster, type InProcessCluster } from "../helpers/in-process-cluster.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import type { JobGraphSpec } from "../../src/jobgraph/types.js";
import { runEddy } from "../helpers/eddy-process.js";

const EVENTS = 12_000;
const KEYS = 5;
let cluster: InProcessCluster;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-sp-"));
  cluster = await startInProcessCluster({ taskExecutors: 2, slots: 4 });
});
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

function keyedCounter(out: string, parallelism: number, rate: number): Promise<JobGraphSpec> {
  return loadJob(
    join(packageRoot(), "examples/keyed-counter.ts"),
    ["--events", String(EVENTS), "--keys", String(KEYS), "--rate", String(rate), "--checkpoint-interval", "300", "--output", out],
    { parallelism },
  );
}

function committed(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith("."))
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter(Boolean))
    .sort();
}

const expected = Array.from({ length: EVENTS }, (_, i) => `k${i % KEYS} ${i} ${Math.floor(i / KEYS) + 1}`).sort();

test("a savepoint taken at parallelism 2 resumes at 4 and at 1 with the same exact output", async () => {
  const first = join(work, "first");
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", await keyedCounter(first, 2, 4_000));
  await waitForJob(cluster.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed > 0, 20_000, "running and checkpointed");
  const { savepointId } = await cluster.dispatcher.ask<{ savepointId: string }>("triggerSavepoint", { jobId, stop: true }, { timeoutMs: 60_000 });
  assert.match(savepointId, /^sp-/);
  const stopped = await awaitJobResult(cluster.dispatcher, jobId, 30_000);
  assert.equal(stopped.state, "FINISHED", "stop-with-savepoint drains the job to FINISHED");
  const before = committed(first);
  assert.ok(before.length > 0 && before.length < EVENTS, `the first run committed part of the output (${before.length} lines)`);

  for (const p of [4, 1]) {
    const dir = join(work, `resumed-${p}`);
    cpSync(first, dir, { recursive: true });
    const spec = await keyedCounter(dir, p, 0);
    spec.config = { ...spec.config, savepoint: savepointId };
    const { jobId: resumed } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
    const r = await awaitJobResult(cluster.dispatcher, resumed, 60_000);
    assert.equal(r.state, "FINISHED", JSON.stringify(r.failure));
    assert.deepEqual(committed(dir), expected, `resumed at parallelism ${p}: every event exactly once, counts 1..n per key`);
  }

  await cluster.dispatcher.ask("disposeSavepoint", { savepointId });
  const kv = await new Kvm(cluster.nc).open(`${cluster.prefix}_checkpoints`);
  const e = await kv.get(`savepoint.${savepointId}`);
  assert.ok(e?.operation !== "PUT", "the disposed savepoint's metadata is gone");
  const os = await new Objm(cluster.nc).open(`${cluster.prefix}_state`);
  assert.deepEqual(
    (await os.list()).map((o) => o.name).filter((n) => n.startsWith(`savepoints/${savepointId}/`)),
    [],
    "and its state",
  );
});

test("stop-with-savepoint of a source chained with a committing sink completes the savepoint and finishes the job", async () => {
  const out = join(work, "chained");
  // source.sequence -> sink.textFile over a forward edge at one parallelism: one chained task whose
  // sink commits on checkpoints (FLIP-147: it would wait for a final checkpoint after its input ends).
  const spec: JobGraphSpec = {
    name: "Chained to a committing sink",
    config: { checkpointing: { intervalMs: 200 } },
    vertices: [
      { id: "src", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 1e12, ratePerSecond: 500 } },
      { id: "sink", invokable: "sink.textFile", parallelism: 1, config: { path: out } },
    ],
    edges: [{ source: "src", target: "sink", partitioner: "forward" }],
  } as JobGraphSpec;
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  await waitForJob(cluster.dispatcher, jobId, allRunning, 30_000, "running");
  const details = await cluster.dispatcher.ask<{ vertices: unknown[] }>("requestJob", { jobId });
  assert.equal(details.vertices.length, 1, "source and sink run as one chained task");
  const { savepointId } = await cluster.dispatcher.ask<{ savepointId: string }>("triggerSavepoint", { jobId, stop: true }, { timeoutMs: 60_000 });
  assert.ok(savepointId);
  const stopped = await awaitJobResult(cluster.dispatcher, jobId, 30_000);
  assert.equal(stopped.state, "FINISHED");
  const lines = committed(out)
    .map(Number)
    .sort((a, b) => a - b);
  assert.ok(lines.length > 0, "the sink committed what the savepoint covered");
  assert.deepEqual(
    lines,
    Array.from({ length: lines.length }, (_, i) => i),
    "every number once, none missing",
  );
});

test("a finished job's checkpoints are removed from KV and the Object Store", async () => {
  const out = join(work, "cleanup");
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", await keyedCounter(out, 2, 6_000));
  await waitForJob(cluster.dispatcher, jobId, (d) => d.checkpoints.completed >= 2, 20_000, "two checkpoints");
  const r = await awaitJobResult(cluster.dispatcher, jobId, 60_000);
  assert.equal(r.state, "FINISHED");
  assert.deepEqual(committed(out), expected);
  // Read the KV stream message by message: on nats-server 2.9.10 the KV client's keys() can list
  // keys whose messages were already purged, so only the stream's messages count.
  const jsm = await jetstreamManager(cluster.nc);
  const deadline = Date.now() + 10_000;
  let objects: string[] = [];
  let keys: string[] = [];
  do {
    const os = await new Objm(cluster.nc).open(`${cluster.prefix}_state`);
    objects = (await os.list()).map((o) => o.name).filter((n) => n.startsWith(jobId));
    const si = await jsm.streams.info(`KV_${cluster.prefix}_checkpoints`);
    keys = [];
    for (let seq = si.state.first_seq; seq <= si.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(`KV_${cluster.prefix}_checkpoints`, { seq }).catch(() => null);
      if (m?.subject.includes(jobId) && m.data.length > 0) keys.push(m.subject);
    }
    if (!objects.length && !keys.length) break;
    await new Promise((res) => setTimeout(res, 200));
  } while (Date.now() < deadline);
  assert.deepEqual(objects, [], "no state left in the Object Store");
  assert.deepEqual(keys, [], "no checkpoint metadata left in KV");
});

test("checkpoints that time out are aborted and counted; the job goes on and finishes exactly once", async () => {
  const out = join(work, "timeouts");
  const HOLDS = 3;
  // The source holds back the barrier of the checkpoint after each of its first HOLDS snapshots until
  // that checkpoint is aborted, so at least HOLDS checkpoints time out whatever the machine's speed.
  const run = await runEddy(
    [
      "run",
      join(packageRoot(), "test/fixtures/held-checkpoints-job.ts"),
      "--parallelism",
      "2",
      "--",
      "--events",
      String(EVENTS),
      "--keys",
      String(KEYS),
      "--holds",
      String(HOLDS),
      "--checkpoint-interval",
      "50",
      "--checkpoint-timeout",
      "300",
      "--output",
      out,
    ],
    { natsUrl: cluster.natsUrl, prefix: cluster.prefix, timeoutMs: 60_000 },
  );
  assert.equal(run.code, 0, `the job finished: ${run.stdout}${run.stderr}`);
  const jobId = /Job (\S+) submitted/.exec(run.stdout)?.[1];
  assert.ok(jobId, run.stdout);
  const d = await cluster.dispatcher.ask<{ checkpoints: { completed: number; failed: number } }>("requestJob", { jobId });
  assert.ok(d.checkpoints.failed >= HOLDS, `every held checkpoint timed out and was counted: ${JSON.stringify(d.checkpoints)}`);
  assert.ok(d.checkpoints.completed >= 1, `the final checkpoint completed: ${JSON.stringify(d.checkpoints)}`);
  assert.deepEqual(committed(out), expected, "aborted checkpoints commit nothing; everything is committed once");
});

test("eddy savepoint JOBID --stop prints the savepoint id last and stops the job; --dispose deletes it", async () => {
  const out = join(work, "cli");
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", await keyedCounter(out, 2, 3_000));
  await waitForJob(cluster.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed > 0, 20_000, "running and checkpointed");
  const env = { natsUrl: cluster.natsUrl, prefix: cluster.prefix, timeoutMs: 60_000 };
  const sp = await runEddy(["savepoint", jobId, "--stop"], env);
  assert.equal(sp.code, 0, sp.stderr);
  const id = sp.stdout.trim().split("\n").pop()!;
  assert.match(id, /^sp-[0-9a-f]{12}-\d+$/);
  assert.equal((await awaitJobResult(cluster.dispatcher, jobId, 30_000)).state, "FINISHED");
  const gone = await runEddy(["savepoint", "--dispose", id], env);
  assert.equal(gone.code, 0, gone.stderr);
  const again = await runEddy(["savepoint", "--dispose", id], env);
  assert.equal(again.code, 1, "disposing it twice is refused");
});
