/** Same-thread link (producer and consumer in one slot): records arrays handed over directly. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { ErrorCode } from "../../src/core/errors.js";
import { NetworkEnvironment, type NetworkConfig } from "../../src/network/index.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { checkConsumer, consume, inputOf, outputOf, produce, topology, type Topology } from "./network-util.js";

let nats: TestNats;
let nc: NatsConnection;
const here = { taskExecutorId: "teA", slotIndex: 0 };

before(async () => {
  nats = await startTestNats();
  nc = await connectNats(nats.url, "network-local-test");
});
after(async () => {
  await nc.close();
  await nats.stop();
});

function env(config: Partial<NetworkConfig> = {}): NetworkEnvironment {
  return new NetworkEnvironment({ nc, subjects: new Subjects("eddy-test-local"), location: here, config });
}

/** Runs a topology in one environment; `producerDelayMs` starts the producers after the consumers (or before with < 0). */
async function run(e: NetworkEnvironment, t: Topology, count: number, opts: { bufferRecords?: number; producerDelayMs?: number } = {}) {
  const startProducers = () =>
    t.producers.map((p, i) => produce(e.createOutput(p.attemptId, [outputOf(t, i)], { bufferTimeoutMs: 50, bufferRecords: opts.bufferRecords ?? 64 }), i, count));
  const startConsumers = () => t.consumers.map((c, j) => consume(e.createInput(c.attemptId, [inputOf(t, j)])));
  let producers: Promise<void>[];
  let consumers: Promise<Map<string, unknown[]>>[];
  if ((opts.producerDelayMs ?? 0) < 0) {
    producers = startProducers();
    await new Promise((r) => setTimeout(r, -opts.producerDelayMs!));
    consumers = startConsumers();
  } else {
    consumers = startConsumers();
    if (opts.producerDelayMs) await new Promise((r) => setTimeout(r, opts.producerDelayMs));
    producers = startProducers();
  }
  const [, results] = await Promise.all([Promise.all(producers), Promise.all(consumers)]);
  results.forEach((got, j) => assert.equal(checkConsumer(t, j, got, count), null));
  for (const p of t.producers) e.release(p.attemptId);
  for (const c of t.consumers) e.release(c.attemptId);
  assert.deepEqual(e.attempts(), []);
}

const loc = () => here;

test("same thread: link kind is local", () => {
  assert.equal(env().linkTo(here), "local");
});

test("same thread: 1 x 4 and 4 x 1 ALL_TO_ALL hash deliver every record in order per channel", async () => {
  const e = env();
  await run(e, topology("l-a2a-1x4", 1, 4, "ALL_TO_ALL", "hash", loc, loc), 20_000);
  await run(e, topology("l-a2a-4x1", 4, 1, "ALL_TO_ALL", "hash", loc, loc), 5_000);
  await run(e, topology("l-a2a-3x3", 3, 3, "ALL_TO_ALL", "rebalance", loc, loc), 3_000);
  await run(e, topology("l-bc-2x3", 2, 3, "ALL_TO_ALL", "broadcast", loc, loc), 3_000);
});

test("same thread: POINTWISE forward 4 x 1 and 2 x 2, rescale 1 x 4", async () => {
  const e = env();
  await run(e, topology("l-pw-4x1", 4, 1, "POINTWISE", "forward", loc, loc), 5_000);
  await run(e, topology("l-pw-2x2", 2, 2, "POINTWISE", "forward", loc, loc), 5_000);
  await run(e, topology("l-pw-1x4", 1, 4, "POINTWISE", "rescale", loc, loc), 8_000);
});

test("same thread: consumer before producer, and producer (blocked on backpressure) before consumer", async () => {
  const e = env();
  await run(e, topology("l-late-p", 2, 2, "ALL_TO_ALL", "hash", loc, loc), 5_000, { producerDelayMs: 100 });
  await run(e, topology("l-late-c", 2, 2, "ALL_TO_ALL", "hash", loc, loc), 20_000, { producerDelayMs: -100 });
});

test("same thread: a producer that never registers fails the consumer with PartitionNotFound at the deadline", async () => {
  const e = env({ partitionRequestTimeoutMs: 200 });
  const t = topology("l-missing", 1, 1, "ALL_TO_ALL", "hash", loc, loc);
  const input = e.createInput("l-missing-c0", [inputOf(t, 0)]);
  const t0 = Date.now();
  await assert.rejects(input.next(), (err: { code?: string }) => err.code === ErrorCode.PartitionNotFound);
  const took = Date.now() - t0;
  assert.ok(took >= 180 && took < 1_000, `failed after ${took} ms`);
  e.close();
});

test("same thread: a slow consumer bounds the producer's backlog and its unrecycled buffers; nothing is lost", async () => {
  const e = env({ maxBacklogBuffers: 4, creditsPerChannel: 2, floatingCreditsPerGate: 2 });
  const t = topology("l-bp", 1, 1, "ALL_TO_ALL", "hash", loc, loc);
  const out = e.createOutput("l-bp-p0", [outputOf(t, 0)], { bufferTimeoutMs: -1, bufferRecords: 10 });
  const input = e.createInput("l-bp-c0", [inputOf(t, 0)]);
  let unavailable = 0;
  const producing = produce(out, 0, 2_000, 50, () => {
    if (!out.isAvailable()) unavailable++;
  });
  const got = await consume(input, { recycleDelayMs: 1 });
  await producing;
  assert.equal(checkConsumer(t, 0, got, 2_000), null);
  assert.ok(unavailable > 0, "isAvailable() went false");
  assert.ok(out.stats.backpressureEvents > 0);
  assert.ok(out.stats.maxBacklog <= 4, `max backlog ${out.stats.maxBacklog} > bound 4`);
  assert.ok(input.stats.maxUnrecycled <= 4, `consumer held ${input.stats.maxUnrecycled} buffers with 2 exclusive + 2 floating credits`);
  assert.ok(input.stats.maxUnrecycled > 2, "the backlogged channel borrowed floating credits");
  assert.equal(input.gates[0]!.floatingAvailable, 2, "floating credits went back to the gate");
  e.close();
});

test("same thread: floating credits are shared by the gate; every channel keeps its exclusive credits", async () => {
  const e = env({ maxBacklogBuffers: 4, creditsPerChannel: 2, floatingCreditsPerGate: 3 });
  const t = topology("l-float", 4, 1, "ALL_TO_ALL", "hash", loc, loc);
  const outs = t.producers.map((p, i) => e.createOutput(p.attemptId, [outputOf(t, i)], { bufferTimeoutMs: -1, bufferRecords: 8 }));
  const input = e.createInput("l-float-c0", [inputOf(t, 0)]);
  const producing = Promise.all(outs.map((o, i) => produce(o, i, 1_000)));
  const got = await consume(input, { recycleDelayMs: 1 });
  await producing;
  assert.equal(checkConsumer(t, 0, got, 1_000), null);
  assert.ok(input.stats.maxUnrecycledTotal <= 4 * 2 + 3, `gate held ${input.stats.maxUnrecycledTotal} buffers, bound 11`);
  assert.ok(input.stats.maxUnrecycled <= 2 + 3);
  assert.equal(input.gates[0]!.floatingAvailable, 3);
  e.close();
});

test("same thread: the buffer timeout flushes a partial buffer; without it nothing moves until full", async () => {
  const e = env();
  const t = topology("l-timeout", 1, 1, "ALL_TO_ALL", "forward", loc, loc);
  const out = e.createOutput("l-timeout-p0", [outputOf(t, 0)], { bufferTimeoutMs: 30, bufferRecords: 1000 });
  const input = e.createInput("l-timeout-c0", [inputOf(t, 0)]);
  for (let i = 0; i < 5; i++) out.emit(["x", i, "k"]);
  const t0 = Date.now();
  const b = await input.next();
  assert.ok(b && b.records.length === 5, "5 records in one flushed buffer");
  assert.ok(Date.now() - t0 < 500);
  input.recycle(b);

  const t2 = topology("l-notimeout", 1, 1, "ALL_TO_ALL", "forward", loc, loc);
  const out2 = e.createOutput("l-notimeout-p0", [outputOf(t2, 0)], { bufferTimeoutMs: -1, bufferRecords: 1000 });
  const input2 = e.createInput("l-notimeout-c0", [inputOf(t2, 0)]);
  for (let i = 0; i < 5; i++) out2.emit(["x", i, "k"]);
  const pending = input2.next();
  const raced = await Promise.race([pending, new Promise((r) => setTimeout(() => r("nothing"), 150))]);
  assert.equal(raced, "nothing");
  out2.flush();
  const b2 = await pending;
  assert.equal(b2?.records.length, 5);
  e.close();
  void out;
});

test("same thread: next() rejects when the task is canceled; a released producer fails its consumer", async () => {
  const e = env();
  const t = topology("l-abort", 1, 1, "ALL_TO_ALL", "forward", loc, loc);
  const ac = new AbortController();
  e.createOutput("l-abort-p0", [outputOf(t, 0)], { bufferTimeoutMs: 10 });
  const input = e.createInput("l-abort-c0", [inputOf(t, 0)], ac.signal);
  const pending = input.next();
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(pending, (err: Error) => err.name === "AbortError");

  const t2 = topology("l-gone", 1, 1, "ALL_TO_ALL", "forward", loc, loc);
  const out2 = e.createOutput("l-gone-p0", [outputOf(t2, 0)], { bufferTimeoutMs: 10 });
  const input2 = e.createInput("l-gone-c0", [inputOf(t2, 0)]);
  out2.emit([0, 0, "k"]);
  out2.flush();
  const b = await input2.next();
  assert.equal(b?.records.length, 1);
  e.release("l-gone-p0");
  await assert.rejects(input2.next(), (err: { code?: string }) => err.code === ErrorCode.TaskFailed);
  assert.throws(() => out2.emit([0, 1, "k"]), (err: { code?: string }) => err.code === ErrorCode.Shutdown);
  e.close();
});
