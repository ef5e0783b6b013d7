/** Remote link over a real nats-server: two environments standing for two TaskExecutors. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { ErrorCode } from "../../src/core/errors.js";
import { NetworkEnvironment, type NetworkConfig } from "../../src/network/index.js";
import { encodeDataFrame } from "../../src/network/frame.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { checkConsumer, consume, inputOf, outputOf, produce, rec, topology, type Topology } from "./network-util.js";

let nats: TestNats;
let ncA: NatsConnection;
let ncB: NatsConnection;
const subjects = new Subjects("eddy-test-net");
const locA = { taskExecutorId: "teA", slotIndex: 0 };
const locB = { taskExecutorId: "teB", slotIndex: 0 };

before(async () => {
  nats = await startTestNats();
  ncA = await connectNats(nats.url, "net-A");
  ncB = await connectNats(nats.url, "net-B");
});
after(async () => {
  await ncA.close();
  await ncB.close();
  await nats.stop();
});

function envs(config: Partial<NetworkConfig> = {}): [NetworkEnvironment, NetworkEnvironment] {
  return [new NetworkEnvironment({ nc: ncA, subjects, location: locA, config }), new NetworkEnvironment({ nc: ncB, subjects, location: locB, config })];
}

async function run(t: Topology, count: number, opts: { producerDelayMs?: number; bufferRecords?: number } = {}) {
  const [a, b] = envs();
  const startProducers = () =>
    t.producers.map((p, i) => produce(a.createOutput(p.attemptId, [outputOf(t, i)], { bufferTimeoutMs: 50, bufferRecords: opts.bufferRecords ?? 256 }), i, count));
  const startConsumers = () => t.consumers.map((c, j) => consume(b.createInput(c.attemptId, [inputOf(t, j)])));
  let producers: Promise<void>[];
  let consumers: Promise<Map<string, unknown[]>>[];
  const d = opts.producerDelayMs ?? 0;
  if (d < 0) {
    producers = startProducers();
    await new Promise((r) => setTimeout(r, -d));
    consumers = startConsumers();
  } else {
    consumers = startConsumers();
    if (d) await new Promise((r) => setTimeout(r, d));
    producers = startProducers();
  }
  const [, results] = await Promise.all([Promise.all(producers), Promise.all(consumers)]);
  results.forEach((got, j) => assert.equal(checkConsumer(t, j, got, count), null));
  a.close();
  b.close();
}

const A = () => locA;
const B = () => locB;

test("NATS: link kind is remote for another TaskExecutor", () => {
  assert.equal(envs()[1].linkTo(locA), "remote");
});

test("NATS: 1 x 4 and 4 x 1 ALL_TO_ALL hash deliver every record in order per channel", async () => {
  await run(topology("n-a2a-1x4", 1, 4, "ALL_TO_ALL", "hash", A, B), 20_000);
  await run(topology("n-a2a-4x1", 4, 1, "ALL_TO_ALL", "hash", A, B), 10_000);
});

test("NATS: POINTWISE forward 4 x 1 and 2 x 2, rescale 1 x 4", async () => {
  await run(topology("n-pw-4x1", 4, 1, "POINTWISE", "forward", A, B), 5_000);
  await run(topology("n-pw-2x2", 2, 2, "POINTWISE", "forward", A, B), 5_000);
  await run(topology("n-pw-1x4", 1, 4, "POINTWISE", "rescale", A, B), 8_000);
});

test("NATS: consumer before producer (requests retried) and producer before consumer", async () => {
  await run(topology("n-late-p", 2, 2, "ALL_TO_ALL", "hash", A, B), 5_000, { producerDelayMs: 300 });
  await run(topology("n-late-c", 2, 2, "ALL_TO_ALL", "hash", A, B), 20_000, { producerDelayMs: -200 });
});

test("NATS: a producer that never appears fails the consumer with PartitionNotFound at the deadline", async () => {
  const [, b] = envs({ partitionRequestTimeoutMs: 300 });
  const t = topology("n-missing", 1, 1, "ALL_TO_ALL", "hash", A, B);
  const input = b.createInput("n-missing-c0", [inputOf(t, 0)]);
  const t0 = Date.now();
  await assert.rejects(input.next(), (err: { code?: string }) => err.code === ErrorCode.PartitionNotFound);
  const took = Date.now() - t0;
  assert.ok(took >= 250 && took < 1_500, `failed after ${took} ms`);
  b.close();
});

test("NATS: a slow consumer bounds the producer's backlog and the consumer's buffers; nothing is lost", async () => {
  const [a, b] = envs({ maxBacklogBuffers: 4, creditsPerChannel: 2, floatingCreditsPerGate: 2 });
  const t = topology("n-bp", 1, 1, "ALL_TO_ALL", "hash", A, B);
  const out = a.createOutput("n-bp-p0", [outputOf(t, 0)], { bufferTimeoutMs: -1, bufferRecords: 10 });
  const input = b.createInput("n-bp-c0", [inputOf(t, 0)]);
  let unavailable = 0;
  const producing = produce(out, 0, 2_000, 50, () => {
    if (!out.isAvailable()) unavailable++;
  });
  const got = await consume(input, { recycleDelayMs: 1 });
  await producing;
  assert.equal(checkConsumer(t, 0, got, 2_000), null);
  assert.ok(unavailable > 0 && out.stats.backpressureEvents > 0, "isAvailable() went false");
  assert.ok(out.stats.maxBacklog <= 4, `max backlog ${out.stats.maxBacklog} > bound 4`);
  assert.ok(input.stats.maxUnrecycled <= 4, `consumer held ${input.stats.maxUnrecycled} buffers with 2 exclusive + 2 floating credits`);
  assert.ok(input.stats.maxUnrecycled > 2, "the backlogged channel borrowed floating credits");
  assert.equal(input.gates[0]!.floatingAvailable, 2, "floating credits went back to the gate");
  a.close();
  b.close();
});

test("NATS: big buffers are split below the frame limit, the record target adapts to ~32 KiB, a record over the limit is RecordTooLarge", async () => {
  const [a, b] = envs();
  const t = topology("n-big", 1, 1, "ALL_TO_ALL", "forward", A, B);
  const out = a.createOutput("n-big-p0", [outputOf(t, 0)], { bufferTimeoutMs: -1, bufferRecords: 1024 });
  const input = b.createInput("n-big-c0", [inputOf(t, 0)]);
  const big = (i: number) => [i, "x".repeat(100_000)];
  for (let i = 0; i < 30; i++) out.emit(big(i)); // 3 MB in one buffer
  out.flush();
  const seen: number[] = [];
  while (seen.length < 30) {
    const batch = await input.next();
    assert.ok(batch);
    for (const r of batch.records) {
      assert.equal((r as [number, string])[1].length, 100_000);
      seen.push((r as [number, string])[0]);
    }
    input.recycle(batch);
  }
  assert.deepEqual(seen, Array.from({ length: 30 }, (_, i) => i));
  assert.ok(out.stats.buffersSent >= 4, `3 MB went out in ${out.stats.buffersSent} frames`);
  assert.equal(out.partitions[0]!.subpartitions[0]!.target, 1, "100 KB records: one per buffer");

  for (let i = 0; i < 3000; i++) out.emit([i, "y".repeat(1000)]);
  out.flush();
  let n = 0;
  while (n < 3000) {
    const batch = await input.next();
    assert.ok(batch);
    n += batch.records.length;
    input.recycle(batch);
  }
  const target = out.partitions[0]!.subpartitions[0]!.target;
  assert.ok(target >= 20 && target <= 40, `1 KB records: target ${target} per 32 KiB buffer`);

  // Thrown by flush() when credit is there, else by finish() once the consumer's credit arrives.
  await assert.rejects(
    async () => {
      out.emit([0, "z".repeat(1_200_000)]);
      out.flush();
      await out.finish();
    },
    (err: { code?: string }) => err.code === ErrorCode.RecordTooLarge,
  );
  assert.throws(() => out.emit([1, "small"]), (err: { code?: string }) => err.code === ErrorCode.RecordTooLarge);
  a.close();
  b.close();
});

test("NATS: a sequence gap fails the consumer loudly", async () => {
  const [a, b] = envs();
  const t = topology("n-gap", 1, 1, "ALL_TO_ALL", "forward", A, B);
  const out = a.createOutput("n-gap-p0", [outputOf(t, 0)], { bufferTimeoutMs: -1, bufferRecords: 10 });
  const input = b.createInput("n-gap-c0", [inputOf(t, 0)]);
  out.emit([0, 0, "k"]);
  out.flush();
  const first = await input.next();
  assert.equal(first?.records.length, 1);
  input.recycle(first!);
  ncA.publish(subjects.data("n-gap-c0"), encodeDataFrame(0, 5, [["forged"]]));
  await assert.rejects(input.next(), /expected buffer #1, received #5/);
  a.close();
  b.close();
});

test("NATS: the buffer timeout flushes a partial buffer", async () => {
  const [a, b] = envs();
  const t = topology("n-timeout", 1, 1, "ALL_TO_ALL", "forward", A, B);
  const out = a.createOutput("n-timeout-p0", [outputOf(t, 0)], { bufferTimeoutMs: 20, bufferRecords: 1000 });
  const input = b.createInput("n-timeout-c0", [inputOf(t, 0)]);
  for (let i = 0; i < 3; i++) out.emit([0, i, "k"]);
  const batch = await input.next();
  assert.equal(batch?.records.length, 3);
  input.recycle(batch!);
  await out.finish();
  assert.equal(await input.next(), null);
  a.close();
  b.close();
});

test("NATS: usesRemoteLinks names the attempts exchanging data over NATS, a consumer only until its channels ended", async () => {
  const [a, b] = envs();
  const t = topology("n-links", 1, 1, "ALL_TO_ALL", "hash", A, B);
  const out = a.createOutput("n-links-p0", [outputOf(t, 0)], { bufferTimeoutMs: 10, bufferRecords: 16 });
  const input = b.createInput("n-links-c0", [inputOf(t, 0)]);
  assert.equal(a.usesRemoteLinks("n-links-p0"), false, "no consumer attached yet");
  out.emit(rec(0, 0));
  out.flush();
  const first = await input.next();
  assert.ok(first, "a buffer arrived");
  input.recycle(first);
  assert.equal(a.usesRemoteLinks("n-links-p0"), true, "the producer serves a consumer over NATS");
  assert.equal(b.usesRemoteLinks("n-links-c0"), true, "the consumer reads a channel over NATS");
  assert.equal(a.usesRemoteLinks("n-links-c0"), false, "an attempt not here");
  const producing = produce(out, 0, 500);
  await consume(input);
  await producing;
  assert.equal(b.usesRemoteLinks("n-links-c0"), false, "every channel ended: nothing can be lost any more");
  a.close();
  b.close();
});
