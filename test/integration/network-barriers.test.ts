/**
 * Checkpoint barriers in the data plane: in-band on every PIPELINED link kind (same thread, cross
 * thread with a real worker, NATS), exactly-once alignment over all channels of a task, aborts, and
 * the cost of barriers on NATS throughput.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { BarrierError, LocalExchangeBroker, LocalExchangeClient, NetworkEnvironment, type NetworkConfig } from "../../src/network/index.js";
import { decodeBarrierFrame, decodeCancelFrame, encodeBarrierFrame, encodeCancelFrame, frameKind, frameSeq, FrameKind } from "../../src/network/frame.js";
import type { TaskLocation } from "../../src/deployment/descriptors.js";
import { isInputBatch } from "../../src/runtime/api.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { inputOf, outputOf, topology } from "../helpers/network-util.js";
import { checkLog, collect, eventsOf, runScript, type BarrierFixtureData, type LogEntry, type Step } from "../fixtures/network-barriers-worker.js";

let nats: TestNats;
let ncA: NatsConnection;
let ncB: NatsConnection;
const subjects = new Subjects("eddy-test-barriers");
const locA: TaskLocation = { taskExecutorId: "teA", slotIndex: 0 };
const locB: TaskLocation = { taskExecutorId: "teB", slotIndex: 0 };

before(async () => {
  nats = await startTestNats();
  ncA = await connectNats(nats.url, "barriers-A");
  ncB = await connectNats(nats.url, "barriers-B");
});
after(async () => {
  await ncA.close();
  await ncB.close();
  await nats.stop();
});

type Link = "local" | "remote";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Producer and consumer environments for a link kind. */
function envs(link: Link, config: Partial<NetworkConfig> = {}): { prod: NetworkEnvironment; cons: NetworkEnvironment; close(): void } {
  const prod = new NetworkEnvironment({ nc: ncA, subjects, location: locA, config });
  const cons = link === "local" ? prod : new NetworkEnvironment({ nc: ncB, subjects, location: locB, config });
  return {
    prod,
    cons,
    close: () => {
      prod.close();
      if (cons !== prod) cons.close();
    },
  };
}

interface RunOpts {
  config?: Partial<NetworkConfig>;
  /** Start the consumer this long after the producers. */
  consumerDelayMs?: number;
  recycleDelayMs?: number;
  onEvent?: (e: LogEntry, log: LogEntry[]) => void | Promise<void>;
  bufferRecords?: number;
}

/** Runs one scripted producer per script into one consumer; returns the consumer's log (checked). */
async function run(link: Link, tag: string, scripts: Step[][], opts: RunOpts = {}): Promise<{ log: LogEntry[]; held: number }> {
  const e = envs(link, opts.config);
  const loc = () => (link === "local" ? locA : locB);
  const t = topology(tag, scripts.length, 1, "ALL_TO_ALL", "rebalance", () => locA, loc);
  const producers = scripts.map((s, i) =>
    runScript(e.prod.createOutput(t.producers[i]!.attemptId, [outputOf(t, i)], { bufferTimeoutMs: 20, bufferRecords: opts.bufferRecords ?? 16 }), i, s),
  );
  if (opts.consumerDelayMs) await sleep(opts.consumerDelayMs);
  const input = e.cons.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]);
  let held = 0;
  const log = await collect(input, {
    ...(opts.recycleDelayMs ? { recycleDelayMs: opts.recycleDelayMs } : {}),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    onBatch: () => {
      held = Math.max(held, input.heldChannels);
    },
  });
  await Promise.all(producers);
  e.close();
  assert.equal(checkLog(log, scripts), null);
  return { log, held };
}

test("barriers: BARRIER and CANCEL_CHECKPOINT frames round-trip; a stop-with-savepoint's barrier keeps its stop flag", () => {
  const f = encodeBarrierFrame(7, 42, { checkpointId: 2 ** 40 + 3, timestamp: 1_700_000_000_123, kind: "SAVEPOINT" });
  assert.equal(frameKind(f), FrameKind.Barrier);
  assert.equal(frameSeq(f), 42);
  assert.equal(f.length, 12 + 17);
  assert.deepEqual(decodeBarrierFrame(f), { checkpointId: 2 ** 40 + 3, timestamp: 1_700_000_000_123, kind: "SAVEPOINT" });
  const c = encodeCancelFrame(1, 0, 9);
  assert.equal(frameKind(c), FrameKind.CancelCheckpoint);
  assert.equal(decodeCancelFrame(c), 9);
  assert.throws(() => decodeBarrierFrame(c));
  const stop = { checkpointId: 5, timestamp: 1_700_000_000_000, kind: "SAVEPOINT", stop: true } as const;
  assert.deepEqual(decodeBarrierFrame(encodeBarrierFrame(1, 0, stop)), stop);
  assert.deepEqual(decodeBarrierFrame(encodeBarrierFrame(1, 0, { checkpointId: 5, timestamp: 1, kind: "CHECKPOINT" })), {
    checkpointId: 5,
    timestamp: 1,
    kind: "CHECKPOINT",
  });
  // A flags byte beyond the two bits known is refused (a peer of another version).
  const bad = encodeBarrierFrame(1, 0, stop);
  bad[12 + 16] = 4;
  assert.throws(() => decodeBarrierFrame(bad), /malformed BARRIER frame/);
});

for (const link of ["local", "remote"] as const) {
  test(`barriers (${link}): records before, then the barrier, then the rest; a savepoint keeps its kind`, async () => {
    const scripts: Step[][] = [[1000, { barrier: 1 }, 500, { barrier: 2, kind: "SAVEPOINT" }, 300]];
    const { log } = await run(link, `b-${link}-order`, scripts);
    assert.deepEqual(eventsOf(log), ["B1", "B2"]);
    const b1 = log.findIndex((e) => "barrier" in e && e.barrier === 1);
    const b2 = log.findIndex((e) => "barrier" in e && e.barrier === 2);
    assert.equal(b1, 1000);
    assert.equal(b2, 1501);
    assert.equal((log[b2] as { kind: string }).kind, "SAVEPOINT");
  });

  test(`barriers (${link}): 3 producers, one slow: held channels deliver nothing after the barrier before the barrier event`, async () => {
    const fast: Step[] = [200, { barrier: 1 }, 400, { barrier: 2 }, 100];
    const slow: Step[] = [100, { sleep: 150 }, 100, { barrier: 1 }, { sleep: 150 }, 50, { barrier: 2 }, 50];
    const { log, held } = await run(link, `b-${link}-align`, [fast, fast, slow]);
    assert.deepEqual(eventsOf(log), ["B1", "B2"]);
    assert.ok(held >= 1, "fast channels were held while the slow one caught up");
  });

  test(`barriers (${link}): an ended channel counts as aligned`, async () => {
    const scripts: Step[][] = [
      [100, { barrier: 1 }, 100],
      [50, { sleep: 150 }, 50],
    ];
    const { log } = await run(link, `b-${link}-ended`, scripts);
    assert.deepEqual(eventsOf(log), ["B1"]);
    const b = log.findIndex((e) => "barrier" in e);
    assert.equal(log.slice(0, b).filter((e) => "p" in e && e.p === 1).length, 100, "all of the ended channel's records came first");
  });

  test(`barriers (${link}): barrier 2 before 1 is aligned aborts 1 (SUBSUMED); late barriers of 1 are ignored`, async () => {
    const scripts: Step[][] = [
      [50, { barrier: 1 }, 50, { barrier: 2 }, 50],
      [50, { sleep: 150 }, 20, { barrier: 2 }, 30],
      [10, { sleep: 300 }, { barrier: 1 }, 10, { barrier: 2 }, 10],
    ];
    const { log } = await run(link, `b-${link}-subsume`, scripts);
    assert.deepEqual(eventsOf(log), ["A1:SUBSUMED", "B2"]);
  });

  test(`barriers (${link}): a cancel marker aborts the alignment (CANCELED)`, async () => {
    const scripts: Step[][] = [
      [50, { barrier: 1 }, 50, { barrier: 2 }, 10],
      [50, { sleep: 100 }, { cancel: 1 }, 50, { barrier: 2 }],
      [50, { sleep: 250 }, { barrier: 2 }],
    ];
    const { log } = await run(link, `b-${link}-cancel`, scripts);
    assert.deepEqual(eventsOf(log), ["A1:CANCELED", "B2"]);
  });

  test(`barriers (${link}): a cancel marker before any barrier of its checkpoint aborts it once; its barriers are then ignored`, async () => {
    const scripts: Step[][] = [
      [20, { cancel: 3 }, 20, { barrier: 3 }, 20, { barrier: 4 }, 5],
      [20, { cancel: 3 }, { barrier: 3 }, 20, { barrier: 4 }, 5],
    ];
    const { log } = await run(link, `b-${link}-cancel-early`, scripts);
    assert.deepEqual(eventsOf(log), ["A3:CANCELED", "B4"]);
  });

  test(`barriers (${link}): barriers emitted before the consumer connected arrive in order`, async () => {
    const scripts: Step[][] = [
      [40, { barrier: 1 }, 40, { barrier: 2 }, 40],
      [30, { barrier: 1 }, 30, { barrier: 2 }, 30],
    ];
    const { log } = await run(link, `b-${link}-late`, scripts, { consumerDelayMs: 200 });
    assert.deepEqual(eventsOf(log), ["B1", "B2"]);
  });
}

test("barriers (local): abortCheckpoint releases the held channels; the checkpoint's later barriers are ignored", async () => {
  const e = envs("local");
  const t = topology(
    "b-local-abort",
    2,
    1,
    "ALL_TO_ALL",
    "rebalance",
    () => locA,
    () => locA,
  );
  const scripts: Step[][] = [
    [30, { barrier: 1 }, 30],
    [10, { sleep: 300 }, { barrier: 1 }, 10],
  ];
  const producers = scripts.map((s, i) =>
    runScript(e.prod.createOutput(t.producers[i]!.attemptId, [outputOf(t, i)], { bufferTimeoutMs: 20, bufferRecords: 10 }), i, s),
  );
  const input = e.cons.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]);
  const consuming = collect(input);
  await sleep(150);
  assert.equal(input.pendingCheckpoint, 1);
  assert.equal(input.heldChannels, 1);
  assert.equal(input.abortCheckpoint(1), true);
  assert.equal(input.heldChannels, 0);
  assert.equal(input.abortCheckpoint(1), false, "nothing left to release");
  const [log] = await Promise.all([consuming, ...producers]);
  e.close();
  assert.equal(checkLog(log, scripts), null);
  assert.deepEqual(eventsOf(log), [], "no barrier event for the aborted checkpoint, no abort event either");
  assert.equal(log.filter((x) => "p" in x && x.p === 0).length, 60);
});

test("barriers (local): held buffers stay counted against the channel's credits (backpressure during alignment)", async () => {
  const e = envs("local", { creditsPerChannel: 2, floatingCreditsPerGate: 2, maxBacklogBuffers: 4 });
  const t = topology(
    "b-local-credit",
    2,
    1,
    "ALL_TO_ALL",
    "rebalance",
    () => locA,
    () => locA,
  );
  const out0 = e.prod.createOutput(t.producers[0]!.attemptId, [outputOf(t, 0)], { bufferTimeoutMs: -1, bufferRecords: 10 });
  const out1 = e.prod.createOutput(t.producers[1]!.attemptId, [outputOf(t, 1)], { bufferTimeoutMs: -1, bufferRecords: 10 });
  const input = e.cons.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]);
  out0.broadcastBarrier({ checkpointId: 1, timestamp: 0, kind: "CHECKPOINT" });
  for (let i = 0; i < 200; i++) out0.emit([0, i]);
  out0.flush();
  const first = input.nextEvent();
  await sleep(50);
  assert.equal(input.heldChannels, 1);
  assert.ok(!out0.isAvailable(), "the held channel's producer is backpressured");
  assert.ok(out0.partitions[0]!.subpartitions[0]!.backlog >= 4, "its buffers wait in the producer");
  assert.ok(input.stats.maxUnrecycled <= 4, `the consumer holds at most its credits (${input.stats.maxUnrecycled})`);
  out1.broadcastBarrier({ checkpointId: 1, timestamp: 5, kind: "CHECKPOINT" });
  assert.deepEqual(await first, { barrier: { checkpointId: 1, timestamp: 0, kind: "CHECKPOINT" } });
  const [log] = await Promise.all([collect(input), out0.finish(), out1.finish()]);
  assert.equal(log.length, 200);
  assert.equal(input.alignmentStats.aligned, 1);
  e.close();
});

test("barriers: BLOCKING partitions carry none; bad barriers and barriers after finish() are BarrierErrors", async () => {
  const e = envs("local");
  const t = topology(
    "b-blocking",
    1,
    1,
    "ALL_TO_ALL",
    "rebalance",
    () => locA,
    () => locA,
  );
  const out = e.prod.createOutput("b-blocking-p0", [{ ...outputOf(t, 0), partitionType: "BLOCKING" }], { bufferTimeoutMs: -1, jobId: "b-blocking-job" });
  out.emit([0, 0]);
  out.broadcastBarrier({ checkpointId: 1, timestamp: 0, kind: "CHECKPOINT" });
  assert.equal(out.partitions[0]!.subpartitions[0]!.queuedEvents, 0);
  assert.throws(() => out.broadcastBarrier({ checkpointId: -1, timestamp: 0, kind: "CHECKPOINT" }), BarrierError);
  assert.throws(() => out.broadcastBarrier({ checkpointId: 1, timestamp: 0, kind: "X" as "CHECKPOINT" }), BarrierError);
  await out.finish();
  assert.equal(out.stats.eventsSent, 0);
  assert.throws(() => out.broadcastBarrier({ checkpointId: 2, timestamp: 0, kind: "CHECKPOINT" }), BarrierError);
  e.close();
});

for (const consumerFirst of [true, false]) {
  test(`barriers (thread): a producer in a real worker thread, its barriers in order through the broker's MessagePort (consumer ${consumerFirst ? "first" : "200 ms late"})`, async () => {
    const broker = new LocalExchangeBroker();
    const client = new LocalExchangeClient(broker.connectWorker());
    const consLoc: TaskLocation = { taskExecutorId: "teX", slotIndex: 1 };
    const prodLoc: TaskLocation = { taskExecutorId: "teX", slotIndex: 0 };
    const env = new NetworkEnvironment({ nc: ncB, subjects, location: consLoc, broker: client });
    const t = topology(
      `b-thread-${consumerFirst}`,
      1,
      1,
      "ALL_TO_ALL",
      "rebalance",
      () => prodLoc,
      () => consLoc,
    );
    assert.equal(env.linkTo(prodLoc), "thread");
    const steps: Step[] = [500, { barrier: 1 }, 300, { barrier: 2 }, { sleep: 50 }, 200];
    const brokerPort = broker.connectWorker();
    const data: BarrierFixtureData = {
      barrierFixture: true,
      natsUrl: nats.url,
      prefix: "eddy-test-barriers",
      location: prodLoc,
      attemptId: t.producers[0]!.attemptId,
      outputs: [outputOf(t, 0)],
      producerIndex: 0,
      steps,
    };
    const w = new Worker(new URL("../fixtures/network-barriers-worker.js", import.meta.url), {
      workerData: { ...data, brokerPort },
      transferList: [brokerPort],
    });
    const done = new Promise<void>((resolve, reject) => {
      w.on("message", (m: { type: string; message?: string }) => (m.type === "done" ? resolve() : reject(new Error(m.message))));
      w.on("error", reject);
    });
    // consumer first: its connect request waits at the broker until the worker registers the producer;
    // consumer late: the producer's records and barriers wait in its subpartition
    if (!consumerFirst) await sleep(200);
    const log = await collect(env.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]));
    await done;
    const exited = new Promise((r) => w.once("exit", r));
    w.postMessage("stop");
    await exited;
    env.close();
    client.close();
    broker.close();
    assert.equal(checkLog(log, [steps]), null);
    assert.deepEqual(eventsOf(log), ["B1", "B2"]);
    assert.equal(
      log.findIndex((e) => "barrier" in e),
      500,
    );
  });
}

/** Records/s from one producer to one consumer over NATS, with a barrier every `barrierEveryMs` (0: none). */
async function throughput(tag: string, records: number, barrierEveryMs: number, producers = 1): Promise<{ rate: number; barriers: number }> {
  const e = envs("remote");
  const t = topology(
    tag,
    producers,
    1,
    "ALL_TO_ALL",
    "rebalance",
    () => locA,
    () => locB,
  );
  const outs = t.producers.map((p, i) => e.prod.createOutput(p.attemptId, [outputOf(t, i)], { bufferTimeoutMs: 100, bufferRecords: 1024 }));
  const input = e.cons.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]);
  let id = 0;
  const timer =
    barrierEveryMs > 0
      ? setInterval(() => {
          id++;
          for (const o of outs) o.broadcastBarrier({ checkpointId: id, timestamp: Date.now(), kind: "CHECKPOINT" });
        }, barrierEveryMs)
      : null;
  const t0 = performance.now();
  const produce = async (i: number) => {
    const out = outs[i]!;
    const per = records / producers;
    for (let n = 0; n < per; ) {
      for (let k = 0; k < 1024 && n < per; k++, n++) out.emit([i, n, "payload-0123456789"]);
      if (!out.isAvailable()) await out.available();
      else if ((n & 0x3fff) === 0) await new Promise((r) => setImmediate(r));
    }
  };
  let got = 0;
  let barriers = 0;
  const consume = (async () => {
    for (let ev = await input.nextEvent(); ev !== null; ev = await input.nextEvent()) {
      if (isInputBatch(ev)) {
        got += ev.records.length;
        input.recycle(ev);
      } else barriers++;
    }
  })();
  await Promise.all(outs.map((_, i) => produce(i)));
  if (timer) clearInterval(timer);
  await Promise.all([...outs.map((o) => o.finish()), consume]);
  const rate = got / ((performance.now() - t0) / 1000);
  e.close();
  assert.equal(got, records);
  return { rate, barriers };
}

test("barriers every 100 ms over NATS are aligned while records flow (1x1 and 4x1); the cost is printed", async (t) => {
  // The throughput figures are informational here (the benchmarks own speed); the test proves that
  // barriers injected every 100 ms are aligned while millions of records flow through NATS.
  const N = 1_000_000;
  await throughput("b-warm", 200_000, 0);
  for (const producers of [1, 4]) {
    const none = (await throughput(`b-tp-none-${producers}`, N, 0, producers)).rate;
    const r = await throughput(`b-tp-100ms-${producers}`, N, 100, producers);
    const fmt = (x: number) => Math.round(x).toLocaleString("en");
    t.diagnostic(
      `${producers}x1 over NATS (${N.toLocaleString("en")} records): ${fmt(none)} records/s without barriers, ${fmt(r.rate)} records/s with a barrier every 100 ms (${r.barriers} aligned), ratio ${(r.rate / none).toFixed(3)}`,
    );
    assert.ok(r.barriers > 0, "barriers were aligned");
  }
});
