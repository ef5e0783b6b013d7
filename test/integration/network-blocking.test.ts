/**
 * BLOCKING result partitions in JetStream over a real nats-server: producers write, go away (their
 * NetworkEnvironment and NATS connection closed, as a dead TaskExecutor), consumers read later,
 * re-read, and the JobMaster's release purges or deletes.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { ErrorCode } from "../../src/core/errors.js";
import { newId } from "../../src/core/ids.js";
import { ensureBlockingStream, NetworkEnvironment, releaseBlockingPartitions, type NetworkConfig, type RecordWriterOutput } from "../../src/network/index.js";
import type { InputGateDeploymentDescriptor, ResultPartitionDeploymentDescriptor } from "../../src/deployment/descriptors.js";
import { encodeDataFrame, FRAME_VERSION } from "../../src/network/frame.js";
import { isInputBatch } from "../../src/runtime/api.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { checkConsumer, consume, expectedOn, inputOf, outputOf, produce, rec, topology, type Topology } from "../helpers/network-util.js";

let nats: TestNats;
let ncB: NatsConnection;
let jsm: JetStreamManager;
const subjects = new Subjects("eddy-test-bp");
const locA = { taskExecutorId: "teA", slotIndex: 0 };
const locB = { taskExecutorId: "teB", slotIndex: 0 };
const A = () => locA;
const B = () => locB;

before(async () => {
  nats = await startTestNats({ jetstream: true });
  ncB = await connectNats(nats.url, "bp-consumers");
  jsm = await jetstreamManager(ncB);
});
after(async () => {
  await ncB.close();
  await nats.stop();
});

const blockingOut = (t: Topology, i: number): ResultPartitionDeploymentDescriptor => ({ ...outputOf(t, i), partitionType: "BLOCKING" });
const blockingIn = (t: Topology, j: number): InputGateDeploymentDescriptor => ({ ...inputOf(t, j), partitionType: "BLOCKING" });

/** A producer "TaskExecutor": its own connection and environment; `kill()` closes both. */
async function producerSide(config: Partial<NetworkConfig> = {}) {
  const nc = await connectNats(nats.url, "bp-producer");
  const env = new NetworkEnvironment({ nc, subjects, location: locA, config });
  return {
    nc,
    env,
    kill: async () => {
      env.close();
      await nc.close();
    },
  };
}

const consumerEnv = (config: Partial<NetworkConfig> = {}) => new NetworkEnvironment({ nc: ncB, subjects, location: locB, config });

/** Produces every producer of `t` to completion (BLOCKING), then closes the producers' side. */
async function produceAll(jobId: string, t: Topology, count: number, config: Partial<NetworkConfig> = {}) {
  const p = await producerSide(config);
  const outs = t.producers.map((pr, i) => p.env.createOutput(pr.attemptId, [blockingOut(t, i)], { bufferTimeoutMs: 50, bufferRecords: 256, jobId }));
  await Promise.all(outs.map((o, i) => produce(o, i, count)));
  await p.kill();
  return outs;
}

async function readAll(env: NetworkEnvironment, jobId: string, t: Topology, tag: string, count: number) {
  const results = await Promise.all(t.consumers.map((c, j) => consume(env.createInput(`${c.attemptId}${tag}`, [blockingIn(t, j)], undefined, { jobId }))));
  results.forEach((got, j) => assert.equal(checkConsumer(t, j, got, count), null));
  return results;
}

async function subjectCounts(jobId: string): Promise<Record<string, number>> {
  const si = await jsm.streams.info(subjects.blockingStream(jobId), { subjects_filter: ">" });
  return (si.state.subjects as Record<string, number> | undefined) ?? {};
}

test("BLOCKING: 2 producers hash into 4 subpartitions each, die, and consumers read everything in order; a second attempt re-reads the same", async () => {
  const jobId = newId();
  const t = topology("bp1", 2, 4, "ALL_TO_ALL", "hash", A, B);
  const count = 20_000;
  const outs = await produceAll(jobId, t, count);
  assert.ok(outs.every((o) => o.finished));

  const si = await jsm.streams.info(subjects.blockingStream(jobId));
  assert.equal(si.config.name, `eddy-test-bp_bp_${jobId}`);
  assert.deepEqual(si.config.subjects, [`eddy-test-bp.bp.${jobId}.>`]);
  assert.equal(si.config.storage, "file");
  assert.equal(si.config.num_replicas, 1);
  const counts = await subjectCounts(jobId);
  assert.equal(Object.keys(counts).length, 8, "one subject per subpartition of each producer attempt");
  assert.ok(counts[subjects.blockingSubpartition(jobId, "bp1-p0", t.resultId, 3)]! >= 2, "data frames and END");

  const env = consumerEnv();
  await readAll(env, jobId, t, "", count);
  await readAll(env, jobId, t, "-attempt2", count);
  env.close();
  // the channels' ephemeral consumers are deleted once they end
  const deadline = Date.now() + 3_000;
  while ((await jsm.streams.info(subjects.blockingStream(jobId))).state.consumer_count > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  assert.equal((await jsm.streams.info(subjects.blockingStream(jobId))).state.consumer_count, 0);
});

test("BLOCKING: concurrent creators of a job's stream race safely", async () => {
  const jobId = newId();
  const conns = await Promise.all([0, 1, 2, 3].map((i) => connectNats(nats.url, `bp-race-${i}`)));
  const managers = await Promise.all(conns.map((nc) => jetstreamManager(nc)));
  await Promise.all(managers.flatMap((m) => [ensureBlockingStream(m, subjects, jobId), ensureBlockingStream(m, subjects, jobId)]));
  assert.equal((await jsm.streams.info(subjects.blockingStream(jobId))).config.name, subjects.blockingStream(jobId));
  await Promise.all(conns.map((nc) => nc.close()));
  await releaseBlockingPartitions(ncB, subjects, jobId);
});

test("BLOCKING: a producer with two BLOCKING outputs and a PIPELINED one; big records are split below the frame limit", async () => {
  const jobId = newId();
  const ta = topology("bp8a", 1, 2, "ALL_TO_ALL", "hash", A, B);
  const tb = topology("bp8b", 1, 1, "ALL_TO_ALL", "broadcast", A, B);
  const tc = topology("bp8c", 1, 1, "ALL_TO_ALL", "forward", A, B);
  for (const t of [tb, tc]) t.producers = ta.producers;
  const env = consumerEnv();
  const pipelined = consume(env.createInput("bp8-live", [inputOf(tc, 0)]));
  const p = await producerSide();
  const out = p.env.createOutput("bp8a-p0", [blockingOut(ta, 0), blockingOut(tb, 0), outputOf(tc, 0)], { bufferTimeoutMs: 20, bufferRecords: 64, jobId });
  await produce(out, 0, 3_000);
  const big = out.partitions[1]!;
  assert.equal(big.desc.resultId, tb.resultId);
  await p.kill();
  assert.equal(checkConsumer(tc, 0, await pipelined, 3_000), null);
  for (let j = 0; j < 2; j++)
    assert.equal(checkConsumer(ta, j, await consume(env.createInput(`bp8a-c${j}`, [blockingIn(ta, j)], undefined, { jobId })), 3_000), null);
  assert.equal(checkConsumer(tb, 0, await consume(env.createInput("bp8b-c0", [blockingIn(tb, 0)], undefined, { jobId })), 3_000), null);

  // 3 MB of 100 KB records in one buffer: split into frames below the limit
  const q = await producerSide();
  const td = topology("bp8d", 1, 1, "ALL_TO_ALL", "forward", A, B);
  const outD = q.env.createOutput("bp8d-p0", [blockingOut(td, 0)], { bufferTimeoutMs: -1, bufferRecords: 1024, jobId });
  for (let i = 0; i < 30; i++) outD.emit([i, "x".repeat(100_000)]);
  await outD.finish();
  assert.ok(outD.stats.buffersSent >= 4, `3 MB went out in ${outD.stats.buffersSent} frames`);
  const outE = q.env.createOutput("bp8e-p0", [blockingOut(td, 0)], { bufferTimeoutMs: -1, jobId });
  outE.emit([0, "z".repeat(1_200_000)]);
  await assert.rejects(outE.finish(), (err: { code?: string }) => err.code === ErrorCode.RecordTooLarge);
  await q.kill();
  const got = await consume(env.createInput("bp8d-c0", [blockingIn(td, 0)], undefined, { jobId }));
  assert.deepEqual(
    (got.get("0/0") ?? []).map((r) => (r as [number, string])[0]),
    Array.from({ length: 30 }, (_, i) => i),
  );
  env.close();
  await releaseBlockingPartitions(ncB, subjects, jobId);
});

test("BLOCKING: the bound of unacknowledged publishes is the producer's backpressure; a slow consumer holds no more than its credits", async () => {
  const jobId = newId();
  const t = topology("bp2", 1, 2, "ALL_TO_ALL", "hash", A, B);
  const p = await producerSide({ blockingMaxPendingPublishes: 3 });
  const out = p.env.createOutput("bp2-p0", [blockingOut(t, 0)], { bufferTimeoutMs: -1, bufferRecords: 10, jobId });
  const pub = p.env.blockingPublisher("bp2-p0")!;
  let unavailable = 0;
  let over = 0;
  await produce(out, 0, 5_000, 50, () => {
    if (!out.isAvailable()) {
      unavailable++;
      if (pub.outstanding < 3) over++;
    }
  });
  assert.ok(unavailable > 0 && out.stats.backpressureEvents > 0, "isAvailable() went false");
  assert.equal(over, 0, "unavailable only while the bound is reached");
  assert.ok(pub.stats.maxOutstanding <= 3, `${pub.stats.maxOutstanding} publishes awaited their ack at once, bound 3`);
  assert.equal(pub.stats.acked, pub.stats.published);
  assert.equal(pub.outstanding, 0, "finish() resolved with everything acknowledged");
  await p.kill();

  const env = consumerEnv({ creditsPerChannel: 2, floatingCreditsPerGate: 0 });
  const input = env.createInput("bp2-c0", [blockingIn(t, 0)], undefined, { jobId });
  const got = await consume(input, { recycleDelayMs: 1 });
  assert.equal(checkConsumer(t, 0, got, 5_000), null);
  assert.ok(input.stats.maxUnrecycled <= 2, `held ${input.stats.maxUnrecycled} buffers with 2 credits`);
  const env2 = consumerEnv({ creditsPerChannel: 2, floatingCreditsPerGate: 4 });
  const input2 = env2.createInput("bp2-c1", [blockingIn(t, 1)], undefined, { jobId });
  const got2 = await consume(input2, { recycleDelayMs: 1 });
  assert.equal(checkConsumer(t, 1, got2, 5_000), null);
  assert.ok(input2.stats.maxUnrecycled <= 6 && input2.stats.maxUnrecycled > 2, `held ${input2.stats.maxUnrecycled} buffers with 2 + 4 floating credits`);
  assert.equal(input2.gates[0]!.floatingAvailable, 4, "floating credits went back to the gate");
  env.close();
  env2.close();
});

test("BLOCKING: consumers started before the producer (no stream yet) and while it writes get everything", async () => {
  const jobId = newId();
  const t = topology("bp3", 1, 3, "ALL_TO_ALL", "rebalance", A, B);
  const count = 30_000;
  const env = consumerEnv();
  const reading = t.consumers.map((c, j) => consume(env.createInput(c.attemptId, [blockingIn(t, j)], undefined, { jobId })));
  await new Promise((r) => setTimeout(r, 300));
  const p = await producerSide();
  const out = p.env.createOutput("bp3-p0", [blockingOut(t, 0)], { bufferTimeoutMs: 10, bufferRecords: 100, jobId });
  let n = 0;
  const late = new Promise<Map<string, unknown[]>>((resolve, reject) => {
    // a consumer attempt that starts halfway through
    const timer = setInterval(() => {
      if (n < count / 2) return;
      clearInterval(timer);
      consume(env.createInput("bp3-c0-late", [blockingIn(t, 0)], undefined, { jobId })).then(resolve, reject);
    }, 5);
  });
  await produce(out, 0, count, 50, () => {
    n++;
  });
  await p.kill();
  const results = await Promise.all(reading);
  results.forEach((got, j) => assert.equal(checkConsumer(t, j, got, count), null));
  assert.equal(checkConsumer(t, 0, await late, count), null);
  env.close();
});

async function slowProduce(out: RecordWriterOutput, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    out.emit(rec(0, i));
    if (i % 500 === 499) await new Promise((r) => setTimeout(r, 2));
    if (!out.isAvailable()) await out.available();
  }
}

test("BLOCKING: a producer that fails or is canceled leaves its partition incomplete: consumers fail (ERROR frame) or wait (dead producer), never end", async () => {
  const jobId = newId();
  const t = topology("bp4", 1, 1, "ALL_TO_ALL", "forward", A, B);
  // canceled: the release appends an ERROR frame after what was stored
  const p = await producerSide();
  const ac = new AbortController();
  const out = p.env.createOutput("bp4-p0", [blockingOut(t, 0)], { bufferTimeoutMs: 5, bufferRecords: 100, jobId, signal: ac.signal });
  await slowProduce(out, 2_000);
  await p.env.blockingPublisher("bp4-p0")!.drained();
  ac.abort();
  await assert.rejects(out.finish());
  p.env.release("bp4-p0");
  const env = consumerEnv();
  const got: unknown[] = [];
  const input = env.createInput("bp4-c0", [blockingIn(t, 0)], undefined, { jobId });
  await assert.rejects(
    (async () => {
      for (;;) {
        const b = await input.next();
        if (b === null) return;
        got.push(...b.records);
        input.recycle(b);
      }
    })(),
    (err: { code?: string }) => err.code === ErrorCode.TaskFailed,
  );
  assert.equal(got.length, 2_000, "the stored data came first");

  // dead: the TaskExecutor vanished mid-write; no ERROR frame, no END: the consumer keeps waiting
  const out2 = p.env.createOutput("bp4-p1", [{ ...blockingOut(t, 0) }], { bufferTimeoutMs: 5, bufferRecords: 100, jobId });
  await slowProduce(out2, 1_000);
  await p.env.blockingPublisher("bp4-p1")!.drained();
  await p.nc.close();
  p.env.close();
  const t2: Topology = { ...t, producers: [{ attemptId: "bp4-p1", location: locA }] };
  const input2 = env.createInput("bp4-c1", [blockingIn(t2, 0)], undefined, { jobId });
  let records = 0;
  let ended = false;
  const reading = (async () => {
    for (;;) {
      const b = await input2.next();
      if (b === null) return (ended = true);
      records += b.records.length;
      input2.recycle(b);
    }
  })();
  reading.catch(() => undefined);
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(records, 1_000, "everything stored was delivered");
  assert.equal(ended, false, "an incomplete partition never ends");
  env.release("bp4-c1");
  await assert.rejects(reading, (err: { code?: string }) => err.code === ErrorCode.Shutdown);
  env.close();
});

test("BLOCKING: release by attempt purges only that attempt; release by job deletes the stream; both idempotent", async () => {
  const jobId = newId();
  const t = topology("bp5", 2, 2, "ALL_TO_ALL", "hash", A, B);
  await produceAll(jobId, t, 2_000);
  const before = await subjectCounts(jobId);
  assert.equal(Object.keys(before).length, 4);

  await releaseBlockingPartitions(ncB, subjects, jobId, ["bp5-p0"]);
  await releaseBlockingPartitions(ncB, subjects, jobId, ["bp5-p0"]);
  await releaseBlockingPartitions(ncB, subjects, jobId, []);
  const left = await subjectCounts(jobId);
  assert.deepEqual(
    Object.keys(left).sort(),
    Object.keys(before)
      .filter((s) => s.includes(".bp5-p1."))
      .sort(),
  );
  for (const s of Object.keys(left)) assert.equal(left[s], before[s]);

  // the purged attempt is gone for consumers; the other one still reads
  const env = consumerEnv({ partitionRequestTimeoutMs: 500 });
  const kept: InputGateDeploymentDescriptor = { ...blockingIn(t, 0), channels: [blockingIn(t, 0).channels[1]!] };
  const got = await consume(env.createInput("bp5-c0", [kept], undefined, { jobId }));
  assert.deepEqual(got.get("0/0"), expectedOn(t, 1, 0, 2_000));
  const purged: InputGateDeploymentDescriptor = { ...blockingIn(t, 0), channels: [blockingIn(t, 0).channels[0]!] };
  await assert.rejects(
    consume(env.createInput("bp5-c0b", [purged], undefined, { jobId })),
    (err: { code?: string }) => err.code === ErrorCode.PartitionNotFound,
  );

  await releaseBlockingPartitions(ncB, subjects, jobId);
  await assert.rejects(jsm.streams.info(subjects.blockingStream(jobId)), /stream not found/);
  await releaseBlockingPartitions(ncB, subjects, jobId);
  await releaseBlockingPartitions(ncB, subjects, jobId, ["bp5-p1"]);
  env.close();
});

test("BLOCKING: a reader whose JetStream consumer vanishes resumes after the last frame it saw; a deleted stream is PartitionNotFound", async () => {
  const jobId = newId();
  const t = topology("bp9", 1, 1, "ALL_TO_ALL", "forward", A, B);
  await produceAll(jobId, t, 5_000, {});
  const stream = subjects.blockingStream(jobId);
  const env = consumerEnv({ creditsPerChannel: 1, floatingCreditsPerGate: 0 });
  const input = env.createInput("bp9-c0", [blockingIn(t, 0)], undefined, { jobId });
  const got: unknown[] = [];
  let deleted = 0;
  for (let k = 0; ; k++) {
    const b = await input.next();
    if (b === null) break;
    got.push(...b.records);
    if (k === 3 || k === 10) {
      for await (const ci of jsm.consumers.list(stream)) {
        await jsm.consumers.delete(stream, ci.name);
        deleted++;
      }
    }
    input.recycle(b);
  }
  assert.ok(deleted >= 2, `deleted ${deleted} consumers`);
  assert.equal(checkConsumer(t, 0, new Map([["0/0", got]]), 5_000), null);

  const input2 = env.createInput("bp9-c1", [blockingIn(t, 0)], undefined, { jobId });
  const first = await input2.next();
  assert.ok(first);
  await releaseBlockingPartitions(ncB, subjects, jobId);
  input2.recycle(first);
  await assert.rejects(
    (async () => {
      for (let b = await input2.next(); b !== null; b = await input2.next()) input2.recycle(b);
    })(),
    (err: { code?: string }) => err.code === ErrorCode.PartitionNotFound,
  );
  env.close();
});

test("BLOCKING: a reader waits past the timeout while its producer runs without having written anything yet", async () => {
  const jobId = newId();
  const t = topology("bp10", 1, 1, "ALL_TO_ALL", "forward", A, B);
  const p = await producerSide();
  const out = p.env.createOutput("bp10-p0", [blockingOut(t, 0)], { bufferTimeoutMs: 10, jobId });
  const env = consumerEnv({ partitionRequestTimeoutMs: 300 });
  const reading = consume(env.createInput("bp10-c0", [blockingIn(t, 0)], undefined, { jobId }));
  await new Promise((r) => setTimeout(r, 1_000));
  await produce(out, 0, 100);
  assert.equal(checkConsumer(t, 0, await reading, 100), null);
  await p.kill();
  env.close();
});

test("BLOCKING: PartitionNotFound when nothing was ever written (no stream, or an empty subject)", async () => {
  const env = consumerEnv({ partitionRequestTimeoutMs: 600 });
  const t = topology("bp6", 1, 1, "ALL_TO_ALL", "forward", A, B);
  const t0 = Date.now();
  await assert.rejects(
    consume(env.createInput("bp6-c0", [blockingIn(t, 0)], undefined, { jobId: newId() })),
    (err: { code?: string }) => err.code === ErrorCode.PartitionNotFound,
  );
  const took = Date.now() - t0;
  assert.ok(took >= 550 && took < 2_000, `failed after ${took} ms`);

  const jobId = newId();
  await produceAll(jobId, topology("bp6x", 1, 1, "ALL_TO_ALL", "forward", A, B), 10);
  const t1 = Date.now();
  await assert.rejects(
    consume(env.createInput("bp6-c1", [blockingIn(t, 0)], undefined, { jobId })),
    (err: { code?: string }) => err.code === ErrorCode.PartitionNotFound,
  );
  assert.ok(Date.now() - t1 < 2_000);
  assert.throws(() => env.createInput("bp6-c2", [blockingIn(t, 0)]), /no jobId/);
  env.close();
});

test("BLOCKING: partitions carry no watermarks; a frame of another format version or with watermarks out of place fails the reader with a clear error", async () => {
  const jobId = newId();
  const t = topology("bp-wm", 1, 1, "ALL_TO_ALL", "forward", A, B);
  const p = await producerSide();
  const out = p.env.createOutput(t.producers[0]!.attemptId, [blockingOut(t, 0)], { bufferTimeoutMs: 50, bufferRecords: 4, jobId });
  for (let n = 0; n < 10; n++) {
    out.emit(rec(0, n));
    out.emitWatermark(n);
  }
  await out.finish();
  await p.kill();
  const env = consumerEnv();
  const input = env.createInput("bp-wm-c0", [blockingIn(t, 0)], undefined, { jobId });
  const seen: unknown[] = [];
  for (let e = await input.nextEvent(); e !== null; e = await input.nextEvent()) {
    assert.ok(isInputBatch(e) && e.watermarks === undefined, "only batches, without watermarks");
    seen.push(...e.records);
    input.recycle(e);
  }
  assert.deepEqual(seen, expectedOn(t, 0, 0, 10));
  // A partition written by an Eddy of the version before.
  const old = topology("bp-wmold", 1, 1, "ALL_TO_ALL", "forward", A, B);
  const forged = encodeDataFrame(0, 0, [["old"]]);
  forged[1] = FRAME_VERSION - 1;
  await jetstream(ncB).publish(subjects.blockingSubpartition(jobId, old.producers[0]!.attemptId, old.resultId, 0), forged);
  await assert.rejects(
    consume(env.createInput("bp-wmold-c0", [blockingIn(old, 0)], undefined, { jobId })),
    new RegExp(`frame format version ${FRAME_VERSION - 1}, this Eddy reads version ${FRAME_VERSION}`),
  );
  // A frame whose watermark stands past its records fails the reader, naming the channel.
  const bad = topology("bp-wmbad", 1, 1, "ALL_TO_ALL", "forward", A, B);
  await jetstream(ncB).publish(
    subjects.blockingSubpartition(jobId, bad.producers[0]!.attemptId, bad.resultId, 0),
    encodeDataFrame(0, 0, [["one"]], 0, [5, 1_000]),
  );
  await assert.rejects(consume(env.createInput("bp-wmbad-c0", [blockingIn(bad, 0)], undefined, { jobId })), /channel .*watermark 0 .* is out of place/);
  env.close();
});

test("BLOCKING: throughput of 1M short records through JetStream", async () => {
  const jobId = newId();
  const t = topology("bp7", 1, 1, "ALL_TO_ALL", "forward", A, B);
  const N = 1_000_000;
  const p = await producerSide();
  const out = p.env.createOutput("bp7-p0", [blockingOut(t, 0)], { bufferTimeoutMs: 100, jobId });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    out.emit([i, "w"]);
    if (!out.isAvailable()) await out.available();
  }
  await out.finish();
  const written = performance.now() - t0;
  const frames = p.env.blockingPublisher("bp7-p0")!.stats.published;
  await p.kill();
  const env = consumerEnv();
  const input = env.createInput("bp7-c0", [blockingIn(t, 0)], undefined, { jobId });
  const t1 = performance.now();
  let n = 0;
  let last = -1;
  for (;;) {
    const b = await input.next();
    if (b === null) break;
    for (const r of b.records) {
      const i = (r as [number, string])[0];
      assert.ok(i === last + 1);
      last = i;
    }
    n += b.records.length;
    input.recycle(b);
  }
  const read = performance.now() - t1;
  assert.equal(n, N);
  const rate = (ms: number) => `${(((N / ms) * 1000) / 1e6).toFixed(2)} M records/s`;
  console.log(
    `# BLOCKING via JetStream, ${N} records of [i, "w"] in ${frames} frames: write (acknowledged) ${written.toFixed(0)} ms = ${rate(written)}, read ${read.toFixed(0)} ms = ${rate(read)}`,
  );
  env.close();
  await releaseBlockingPartitions(ncB, subjects, jobId);
});
