import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { killTaskExecutor, startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { withCode } from "../helpers/error-code.js";
import { unpackData } from "../../src/codec/codec.js";
import { ErrorCode } from "../../src/core/errors.js";
import { waitFor } from "../../src/core/time.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";
import { createHarness } from "../helpers/task-harness.js";
import { streamPayloads } from "../helpers/stream-messages.js";
import { jetStreamSource } from "../../src/runtime/invokables/index.js";

let cluster: ProcessCluster;
let js: JetStreamClient;
let jsm: JetStreamManager;
let n = 0;

before(async () => {
  cluster = await startProcessCluster({ taskExecutors: 3, slots: 3 });
  js = jetstream(cluster.nc);
  jsm = await jetstreamManager(cluster.nc);
});
after(async () => {
  await cluster?.stop();
});

/** A fresh stream of `partitions` subjects (1: a single subject); returns its name and subjects. */
async function makeStream(partitions = 1): Promise<{ stream: string; subjects: string[] }> {
  const stream = `JSS_${++n}_${Date.now().toString(36)}`;
  const subjects = Array.from({ length: partitions }, (_, k) => `${cluster.prefix}.user.${stream}.${k}`);
  await jsm.streams.add({ name: stream, subjects });
  return { stream, subjects };
}

/** Publishes `{i}` (JSON) for i in [from, to), round robin over `subjects`, 256 acks in flight. */
async function publish(subjects: string[], from: number, to: number): Promise<void> {
  const inFlight: Promise<unknown>[] = [];
  for (let i = from; i < to; i++) {
    inFlight.push(js.publish(subjects[i % subjects.length]!, JSON.stringify({ i })));
    if (inFlight.length >= 256) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
}

/** Every record of the sink's stream, in stream order, after checking it holds exactly `expected` messages. */
async function readAll(stream: string, expected?: number): Promise<unknown[]> {
  if (expected !== undefined) assert.equal(await messagesIn(stream), expected, `the stream ${stream} holds one message per input message`);
  return (await streamPayloads(cluster.nc, stream)).map((d) => unpackData(d));
}

const messagesIn = async (stream: string) => (await jsm.streams.info(stream)).state.messages;

/** The `i` of every record, checking each appears once; returns them sorted. */
function onceEach(records: unknown[]): number[] {
  const is = records.map((r) => (r as { i: number }).i).sort((a, b) => a - b);
  for (let k = 1; k < is.length; k++) assert.notEqual(is[k], is[k - 1], `record ${is[k]} appears twice`);
  return is;
}

const range = (count: number) => Array.from({ length: count }, (_, i) => i);

function job(name: string, source: Record<string, unknown>, out: string, opts: { parallelism?: number; checkpointing?: boolean; edge?: string } = {}) {
  const p = opts.parallelism ?? 2;
  return {
    name,
    vertices: [
      { id: "in", invokable: "source.jetstream", parallelism: p, config: source },
      { id: "out", invokable: "sink.jetstream", parallelism: p, config: { stream: out, subject: `${cluster.prefix}.user.${out}` } },
    ],
    edges: [{ source: "in", target: "out", partitioner: opts.edge ?? "forward" }],
    config: {
      ...(opts.checkpointing ? { checkpointing: { intervalMs: 200 } } : {}),
      restartStrategy: opts.checkpointing ? { type: "fixed-delay", attempts: 10, delayMs: 100 } : { type: "none" },
    },
  };
}

/** The sink's stream (the operator makes it: workers may create none). */
async function outStream(): Promise<string> {
  const name = `JSO_${++n}_${Date.now().toString(36)}`;
  await jsm.streams.add({ name, subjects: [`${cluster.prefix}.user.${name}`], duplicate_window: 120_000_000_000 });
  return name;
}

test("a bounded read of a stream emits each of its messages once, in stream order per subject partition", async () => {
  const { stream, subjects } = await makeStream(4);
  await publish(subjects, 0, 4_000);
  const out = await outStream();
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", job("bounded", { stream, bounded: true }, out, { parallelism: 3 }));
  const result = await awaitJobResult(cluster.dispatcher, jobId, 60_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  const records = await readAll(out);
  assert.deepEqual(onceEach(records), range(4_000));
  // Per partition (i mod 4), records arrive in increasing order: one subtask reads each partition in order.
  const last = new Map<number, number>();
  for (const r of records) {
    const i = (r as { i: number }).i;
    assert.ok((last.get(i % 4) ?? -1) < i, `partition ${i % 4} out of order at ${i}`);
    last.set(i % 4, i);
  }
});

test("endSeq waits for the sequence to arrive, then the job finishes with exactly the messages up to it", async () => {
  const { stream, subjects } = await makeStream(1);
  await publish(subjects, 0, 300);
  const out = await outStream();
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", job("endSeq", { stream, startSeq: 101, endSeq: 500 }, out));
  // Sequences 101..300 are read; the job cannot end before 500 exists.
  await waitFor(async () => ((await messagesIn(out)) >= 200 ? true : undefined), 30_000, "the first 200 records");
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  assert.equal(d.state, "RUNNING", "the source waits for sequence 500");
  await publish(subjects, 300, 600);
  const result = await awaitJobResult(cluster.dispatcher, jobId, 60_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assert.deepEqual(
    onceEach(await readAll(out)),
    range(400).map((k) => k + 100),
  );
});

test("an unbounded read follows the stream as messages arrive", async () => {
  const { stream, subjects } = await makeStream(1);
  await publish(subjects, 0, 50);
  const out = await outStream();
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", job("unbounded", { stream, format: "json" }, out));
  await waitFor(async () => ((await messagesIn(out)) >= 50 ? true : undefined), 30_000, "the first 50 records");
  await publish(subjects, 50, 120);
  await waitFor(async () => ((await messagesIn(out)) >= 120 ? true : undefined), 30_000, "the next 70 records");
  assert.deepEqual(onceEach(await readAll(out)), range(120));
  await cluster.dispatcher.ask("cancelJob", { jobId });
  const result = await awaitJobResult(cluster.dispatcher, jobId, 30_000);
  assert.equal(result.state, "CANCELED");
});

test("with the JetStream sink every message is committed exactly once through a SIGKILLed TaskExecutor", async () => {
  const total = 10_000;
  // Two subject partitions, one per subtask: both wait for the second half (no subtask finishes early).
  const { stream, subjects } = await makeStream(2);
  await publish(subjects, 0, total / 2);
  const out = await outStream();
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", job("exactly once", { stream, endSeq: total }, out, { checkpointing: true }));
  // Half of the input is in the output (committed by checkpoints); the rest cannot be read before it is published.
  await waitFor(async () => ((await messagesIn(out)) >= total / 2 ? true : undefined), 60_000, "the first half committed");
  const d = await waitForJob(cluster.dispatcher, jobId, allRunning, 30_000, "running");
  const seen = d.checkpoints.completed;
  await waitForJob(cluster.dispatcher, jobId, (x) => x.checkpoints.completed > seen, 30_000, "another checkpoint");
  await killTaskExecutor(cluster, d.vertices[0]!.subtasks[0]!.taskExecutor!);
  // Each subtask is a pipelined region of its own: the killed one restarts (the other, elsewhere, may run on).
  await waitForJob(cluster.dispatcher, jobId, (x) => allRunning(x) && x.vertices[0]!.subtasks[0]!.attempt >= 1, 60_000, "restarted");
  await cluster.addTaskExecutor(3);
  await publish(subjects, total / 2, total);
  const result = await awaitJobResult(cluster.dispatcher, jobId, 90_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assert.deepEqual(onceEach(await readAll(out, total)), range(total));
});

test("a savepoint at parallelism 2 restored at 3 reads every message once", async () => {
  const total = 6_000;
  const { stream, subjects } = await makeStream(4);
  await publish(subjects, 0, total / 2);
  const out = await outStream();
  // Source and sink in tasks of their own (a rebalance edge is never chained), as a stop-with-savepoint needs today.
  const spec = job("rescale", { stream, endSeq: total }, out, { checkpointing: true, edge: "rebalance" });
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  await waitFor(async () => ((await messagesIn(out)) >= total / 2 ? true : undefined), 60_000, "the first half committed");
  const { savepointId } = await cluster.dispatcher.ask<{ savepointId: string }>("triggerSavepoint", { jobId, stop: true }, { timeoutMs: 60_000 });
  assert.equal((await awaitJobResult(cluster.dispatcher, jobId, 30_000)).state, "FINISHED");
  await publish(subjects, total / 2, total);
  const resumed = job("rescale", { stream, endSeq: total }, out, { checkpointing: true, parallelism: 3, edge: "rebalance" });
  const { jobId: again } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", { ...resumed, config: { ...resumed.config, savepoint: savepointId } });
  const result = await awaitJobResult(cluster.dispatcher, again, 60_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assert.deepEqual(onceEach(await readAll(out, total)), range(total));
});

test("bad config is refused at submission with InvalidJobGraph; a missing stream fails the task naming it", async () => {
  const out = await outStream();
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    // The JobGraph schema's checks come first, then the invokable's own.
    [{}, /config: missing required property "stream"/],
    [{ stream: "S", format: "xml" }, /config\.format: must be one of "json", "msgpack", "string", "bytes"; got "xml"/],
    [{ stream: "S", partitions: 3 }, /config: unknown property "partitions"; allowed: stream, filterSubject, format, startSeq, endSeq, bounded/],
    [{ stream: "S", startSeq: 10, endSeq: 5 }, /endSeq \(5\) must not be before config\.startSeq \(10\)/],
    [{ stream: "a.b" }, /config\.stream "a\.b" is no stream name/],
  ];
  for (const [config, message] of bad) {
    await assert.rejects(cluster.dispatcher.ask("submitJob", job("bad", config, out)), withCode(ErrorCode.InvalidJobGraph, message));
  }
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", job("missing", { stream: "NO_SUCH_STREAM" }, out));
  const result = await awaitJobResult(cluster.dispatcher, jobId, 30_000);
  assert.equal(result.state, "FAILED");
  assert.match(JSON.stringify(result.failure), /the stream NO_SUCH_STREAM does not exist/);
});

test("message-time watermarks: an idle subject partition does not hold them back; a stream deleted while read fails the task naming it", async () => {
  const { stream, subjects } = await makeStream(2);
  const h = createHarness({ config: { stream } });
  (h.ctx as { nats?: unknown }).nats = cluster.nc;
  const watermarks: number[] = [];
  h.ctx.output.emitWatermark = (w) => void watermarks.push(w);
  const source = jetStreamSource.create({ stream });
  await source.restore!(h.ctx);
  const run = source.invoke(h.ctx);
  run.catch(() => undefined); // awaited below
  // Partition 0 delivers without pause while partition 1 gets nothing: a watermark comes all the same.
  let published = 0;
  await waitFor(
    async () => {
      await js.publish(subjects[0]!, JSON.stringify({ i: published++ }));
      return watermarks.length > 0 ? true : undefined;
    },
    20_000,
    "a watermark while partition 1 is idle",
    1,
  );
  const lastTs = (await jsm.streams.getMessage(stream, { seq: published }))!.time.getTime();
  await waitFor(
    () => (h.output.length === published && watermarks.includes(lastTs - 1) ? true : undefined),
    20_000,
    "all records and the watermark of the last",
  );
  assert.deepEqual(
    h.output.map((r) => (r as { i: number }).i),
    range(published),
  );
  for (let k = 1; k < watermarks.length; k++) assert.ok(watermarks[k]! > watermarks[k - 1]!, "watermarks only advance");
  await jsm.streams.delete(stream);
  await assert.rejects(run, withCode(ErrorCode.TaskFailed, new RegExp(`the stream ${stream} does not exist`)));
});
