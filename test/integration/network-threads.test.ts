/**
 * Cross-thread links through the LocalExchangeBroker (slots of one TaskExecutor): the shared link
 * scenarios between two slot environments of this thread, each with its own broker port; then real
 * worker threads, through the broker and over NATS between the slots of two TaskExecutors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { ErrorCode } from "../../src/core/errors.js";
import type { TaskLocation } from "../../src/deployment/descriptors.js";
import { LocalExchangeBroker, LocalExchangeClient, NetworkEnvironment, type NetworkConfig } from "../../src/network/index.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { natsForFile } from "../helpers/file-nats.js";
import { describeLinkScenarios } from "../helpers/network-scenarios.js";
import { checkConsumer, inputOf, outputOf, topology, type Topology } from "../helpers/network-util.js";
import type { FixtureData, FixtureDone, FixtureResult, FixtureTask } from "../fixtures/network-worker-fixture.js";

const file = natsForFile("network-threads-test");

describeLinkScenarios(
  "thread",
  (config = {}) => {
    const broker = new LocalExchangeBroker();
    const subjects = new Subjects("eddy-test-thread");
    const slot = (slotIndex: number) => ({ taskExecutorId: "teT", slotIndex });
    const clients = [new LocalExchangeClient(broker.connectWorker()), new LocalExchangeClient(broker.connectWorker())] as const;
    const producer = new NetworkEnvironment({ nc: file.nc, subjects, location: slot(0), config, broker: clients[0] });
    const consumer = new NetworkEnvironment({ nc: file.nc, subjects, location: slot(1), config, broker: clients[1] });
    return {
      producer,
      consumer,
      producerAt: () => slot(0),
      consumerAt: () => slot(1),
      close: () => {
        producer.close();
        consumer.close();
        for (const c of clients) c.close();
        broker.close();
      },
    };
  },
  { bufferRecords: 64 },
);

const FIXTURE = new URL("../fixtures/network-worker-fixture.js", import.meta.url);
const key = (l: TaskLocation) => `${l.taskExecutorId}/${l.slotIndex}`;

interface Run {
  results: Map<string, FixtureResult>;
  done: Map<string, FixtureDone>;
}

/** Runs the topologies with one worker per distinct location; producers of `late` start after `lateMs`. */
async function runInWorkers(
  tops: Array<{ t: Topology; count: number; lateProducers?: number }>,
  opts: { broker: boolean; config?: Partial<NetworkConfig>; extra?: Array<{ loc: TaskLocation; task: FixtureTask }> },
): Promise<Run> {
  const tasks = new Map<string, { loc: TaskLocation; tasks: FixtureTask[] }>();
  const add = (loc: TaskLocation, task: FixtureTask) => {
    const k = key(loc);
    if (!tasks.has(k)) tasks.set(k, { loc, tasks: [] });
    tasks.get(k)!.tasks.push(task);
  };
  for (const { t, count, lateProducers } of tops) {
    t.producers.forEach((p, i) =>
      add(p.location, {
        kind: "produce",
        attemptId: p.attemptId,
        outputs: [outputOf(t, i)],
        producerIndex: i,
        count,
        ...(lateProducers ? { delayMs: lateProducers } : {}),
      }),
    );
    t.consumers.forEach((c, j) => add(c.location, { kind: "consume", attemptId: c.attemptId, inputs: [inputOf(t, j)] }));
  }
  for (const e of opts.extra ?? []) add(e.loc, e.task);
  const broker = opts.broker ? new LocalExchangeBroker() : null;
  const run: Run = { results: new Map(), done: new Map() };
  const workers = [...tasks.values()].map(({ loc, tasks: ts }) => {
    const data: FixtureData = {
      natsUrl: file.nats.url,
      prefix: "eddy-test-threads",
      location: loc,
      tasks: ts,
      ...(opts.config ? { config: opts.config } : {}),
    };
    const brokerPort = broker?.connectWorker();
    const w = new Worker(FIXTURE, { workerData: brokerPort ? { ...data, brokerPort } : data, transferList: brokerPort ? [brokerPort] : [] });
    return new Promise<Worker>((resolve, reject) => {
      w.on("message", (m: FixtureResult | FixtureDone | { type: "fatal"; message: string }) => {
        if (m.type === "result") run.results.set(m.attemptId, m);
        else if (m.type === "done") {
          run.done.set(key(loc), m);
          resolve(w);
        } else reject(new Error(m.message));
      });
      w.on("error", reject);
    });
  });
  const ws = await Promise.all(workers);
  await Promise.all(
    ws.map(
      (w) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(() => void w.terminate(), 3_000);
          w.once("exit", () => {
            clearTimeout(t);
            resolve();
          });
          w.postMessage("stop");
        }),
    ),
  );
  broker?.close();
  for (const { t, count } of tops) {
    for (const p of t.producers) assert.equal(run.results.get(p.attemptId)?.error, undefined, `producer ${p.attemptId}`);
    t.consumers.forEach((c, j) => {
      const r = run.results.get(c.attemptId);
      assert.ok(r, `result of ${c.attemptId}`);
      assert.equal(r.error, undefined, `consumer ${c.attemptId}`);
      assert.equal(checkConsumer(t, j, new Map(r.records), count), null);
    });
  }
  return run;
}

const te = (id: string, slot: number) => () => ({ taskExecutorId: id, slotIndex: slot });

test("threads: cross-thread links (1x4 and 4x1 hash, pointwise forward, late producer) go through the broker, not NATS", async () => {
  const run = await runInWorkers(
    [
      { t: topology("x-a2a-1x4", 1, 4, "ALL_TO_ALL", "hash", te("teX", 0), te("teX", 1)), count: 20_000 },
      // producers spread over three slots, one of them the consumer's own: local and cross-thread channels mixed
      { t: topology("x-a2a-4x1", 4, 1, "ALL_TO_ALL", "hash", (i) => ({ taskExecutorId: "teX", slotIndex: i % 3 }), te("teX", 1)), count: 10_000 },
      {
        t: topology(
          "x-pw-2x2",
          2,
          2,
          "POINTWISE",
          "forward",
          (i) => ({ taskExecutorId: "teX", slotIndex: i === 0 ? 0 : 2 }),
          (j) => ({ taskExecutorId: "teX", slotIndex: j === 0 ? 1 : 0 }),
        ),
        count: 10_000,
      },
      { t: topology("x-pw-1x4", 1, 4, "POINTWISE", "rescale", te("teX", 2), te("teX", 1)), count: 8_000, lateProducers: 300 },
    ],
    { broker: true, config: { partitionRequestTimeoutMs: 5_000 } },
  );
  for (const [loc, d] of run.done) assert.equal(d.outMsgs, 0, `slot ${loc} published ${d.outMsgs} NATS messages on a same-process exchange`);
});

test("threads: a producer that never registers with the broker fails the consumer with PartitionNotFound", async () => {
  const t = topology("x-ghost", 1, 1, "ALL_TO_ALL", "hash", te("teX", 0), te("teX", 1));
  const t0 = Date.now();
  const run = await runInWorkers([], {
    broker: true,
    config: { partitionRequestTimeoutMs: 300 },
    extra: [
      { loc: { taskExecutorId: "teX", slotIndex: 1 }, task: { kind: "consume", attemptId: "x-ghost-c0", inputs: [inputOf(t, 0)] } },
      { loc: { taskExecutorId: "teX", slotIndex: 0 }, task: { kind: "produce", attemptId: "x-other-p0", outputs: [], producerIndex: 0, count: 0 } },
    ],
  });
  assert.equal(run.results.get("x-ghost-c0")?.error?.code, ErrorCode.PartitionNotFound);
  assert.ok(Date.now() - t0 < 5_000);
});

test("threads: NATS between the slots of two TaskExecutors (1x4 and 4x1 hash, pointwise with a late producer)", async () => {
  const run = await runInWorkers(
    [
      { t: topology("r-a2a-1x4", 1, 4, "ALL_TO_ALL", "hash", te("teA", 0), te("teB", 0)), count: 20_000 },
      { t: topology("r-a2a-4x1", 4, 1, "ALL_TO_ALL", "hash", te("teA", 0), te("teB", 0)), count: 10_000 },
      { t: topology("r-pw-2x2", 2, 2, "POINTWISE", "forward", te("teB", 0), te("teA", 0)), count: 5_000, lateProducers: 300 },
    ],
    { broker: false },
  );
  for (const [loc, d] of run.done) assert.ok(d.outMsgs > 0, `slot ${loc} used NATS`);
});

test("threads: buffers across threads aim at ~32 KiB encoded (1 KB records), small records fill the default 4096 per buffer", async () => {
  const broker = new LocalExchangeBroker();
  const subjects = new Subjects("eddy-test-thread-size");
  const slot = (slotIndex: number) => () => ({ taskExecutorId: "teS", slotIndex });
  const clients = [new LocalExchangeClient(broker.connectWorker()), new LocalExchangeClient(broker.connectWorker())] as const;
  const a = new NetworkEnvironment({ nc: file.nc, subjects, location: slot(0)(), broker: clients[0] });
  const b = new NetworkEnvironment({ nc: file.nc, subjects, location: slot(1)(), broker: clients[1] });
  try {
    const t = topology("t-size", 1, 1, "ALL_TO_ALL", "forward", slot(0), slot(1));
    const out = a.createOutput("t-size-p0", [outputOf(t, 0)], { bufferTimeoutMs: -1 });
    const input = b.createInput("t-size-c0", [inputOf(t, 0)]);
    const sub = out.partitions[0]!.subpartitions[0]!;
    /** Emits `n` records and reads them back; returns the sizes of the batches received. */
    const roundTrip = async (n: number, rec: (i: number) => unknown): Promise<number[]> => {
      for (let i = 0; i < n; i++) out.emit(rec(i));
      out.flush();
      const sizes: number[] = [];
      for (let got = 0; got < n; ) {
        const batch = await input.next();
        assert.ok(batch, "input ended early");
        for (let k = 0; k < batch.records.length; k++) assert.deepEqual(batch.records[k], rec(got + k));
        got += batch.records.length;
        sizes.push(batch.records.length);
        input.recycle(batch);
      }
      return sizes;
    };
    const small = await roundTrip(3 * 4096, (i) => [`w${i % 100}`, 1]);
    assert.equal(small[0], 4096, `8-byte records: the first buffer holds the default 4096 (${small.join(",")})`);
    assert.ok(sub.target >= 3000, `8-byte records: target ${sub.target} near 32 KiB`);
    // Emitted at once, the first 1 KB records fill buffers of the old target (split below the frame limit)...
    await roundTrip(3000, (i) => [i, "y".repeat(1000)]);
    assert.ok(sub.target >= 20 && sub.target <= 40, `1 KB records: target ${sub.target} per 32 KiB buffer`);
    // ...the next ones go in buffers of about 32 KiB.
    const big = await roundTrip(3000, (i) => [i, "y".repeat(1000)]);
    assert.ok(Math.max(...big) <= 40, `1 KB records: buffers of at most 40 records (${big.slice(0, 8).join(",")}...)`);
    await out.finish();
    assert.equal(await input.next(), null);
  } finally {
    a.close();
    b.close();
    for (const c of clients) c.close();
    broker.close();
  }
});
