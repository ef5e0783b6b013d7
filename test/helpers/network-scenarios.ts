/**
 * The data-exchange scenarios every link kind must pass (delivery per distribution pattern, late
 * producers and consumers, PartitionNotFound, credit-based backpressure, buffer timeout, cancel and
 * release, and the watermarks of network-watermark-scenarios.ts), written once: each network test file calls describeLinkScenarios for its kind with a
 * factory of producer and consumer environments joined by that kind of link.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode } from "../../src/core/errors.js";
import type { TaskLocation } from "../../src/deployment/descriptors.js";
import type { PartitionerType } from "../../src/jobgraph/types.js";
import type { LinkKind, NetworkConfig, NetworkEnvironment, RecordWriterOutput, UnionInput } from "../../src/network/index.js";
import { checkConsumer, consume, inputOf, outputOf, produce, topology, type Topology } from "./network-util.js";
import { describeWatermarkScenarios } from "./network-watermark-scenarios.js";

/** A producer side and a consumer side joined by one kind of link (the same environment for "local"). */
export interface LinkPair {
  producer: NetworkEnvironment;
  consumer: NetworkEnvironment;
  /** Where producer subtask i / consumer subtask j run. */
  producerAt: (i: number) => TaskLocation;
  consumerAt: (j: number) => TaskLocation;
  /** Closes both environments (and whatever the factory opened for them). */
  close(): void;
}

export interface LinkScenarioOptions {
  /** Records per buffer in the delivery scenarios. */
  bufferRecords: number;
}

/** Registers the shared scenarios as tests named "`kind`: ...". */
export function describeLinkScenarios(
  kind: Exclude<LinkKind, "blocking">,
  makeLink: (config?: Partial<NetworkConfig>) => LinkPair,
  opts: LinkScenarioOptions,
): void {
  describeWatermarkScenarios(kind, makeLink);
  const name = (t: string) => `${kind}-${t}`;
  const topo = (l: LinkPair, id: string, n: number, m: number, d: Topology["pattern"], p: PartitionerType) =>
    topology(name(id), n, m, d, p, l.producerAt, l.consumerAt);

  /**
   * Runs a topology; `producerDelayMs` starts the producers after the consumers (or before them when
   * < 0). Checks the delivery, and the counts the metrics read: each producer's records sent (a
   * broadcast record once), the records every consumer received, and the encoded bytes on both ends.
   */
  async function run(l: LinkPair, t: Topology, count: number, producerDelayMs = 0): Promise<void> {
    const outputs: RecordWriterOutput[] = [];
    const inputs: UnionInput[] = [];
    const startProducers = () =>
      t.producers.map((p, i) => {
        const out = l.producer.createOutput(p.attemptId, [outputOf(t, i)], { bufferTimeoutMs: 50, bufferRecords: opts.bufferRecords });
        outputs.push(out);
        return produce(out, i, count);
      });
    const startConsumers = () =>
      t.consumers.map((c, j) => {
        const input = l.consumer.createInput(c.attemptId, [inputOf(t, j)]);
        inputs.push(input);
        return consume(input);
      });
    let producers: Promise<void>[];
    let consumers: Promise<Map<string, unknown[]>>[];
    if (producerDelayMs < 0) {
      producers = startProducers();
      await new Promise((r) => setTimeout(r, -producerDelayMs));
      consumers = startConsumers();
    } else {
      consumers = startConsumers();
      if (producerDelayMs) await new Promise((r) => setTimeout(r, producerDelayMs));
      producers = startProducers();
    }
    const [, results] = await Promise.all([Promise.all(producers), Promise.all(consumers)]);
    for (const [j, got] of results.entries()) assert.equal(checkConsumer(t, j, got, count), null);
    for (const out of outputs) assert.equal(out.recordsSent, count, "records sent, counted per buffer");
    const received = inputs.reduce((n, i) => n + i.stats.recordsReceived, 0);
    assert.equal(received, count * t.producers.length * (t.partitioner === "broadcast" ? t.consumers.length : 1), "records received");
    const bytesIn = inputs.reduce((n, i) => n + i.bytesReceived, 0);
    assert.equal(
      bytesIn,
      outputs.reduce((n, o) => n + o.stats.bytesSent, 0),
      "bytes received = bytes sent",
    );
    assert.equal(bytesIn > 0, kind !== "local", "only a same-thread link carries no encoded bytes");
    for (const p of t.producers) l.producer.release(p.attemptId);
    for (const c of t.consumers) l.consumer.release(c.attemptId);
    assert.deepEqual(l.producer.attempts(), []);
    assert.deepEqual(l.consumer.attempts(), []);
  }

  /** Runs `body` with a fresh link pair, closed afterwards whatever happens. */
  async function withLink(config: Partial<NetworkConfig>, body: (l: LinkPair) => Promise<void>): Promise<void> {
    const l = makeLink(config);
    try {
      await body(l);
    } finally {
      l.close();
    }
  }

  test(`${kind}: the consumer's environment sees the producer over a ${kind} link`, () => {
    const l = makeLink();
    try {
      assert.equal(l.consumer.linkTo(l.producerAt(0)), kind);
    } finally {
      l.close();
    }
  });

  test(`${kind}: ALL_TO_ALL 1 x 4 and 4 x 1 hash, 3 x 3 rebalance, 2 x 3 broadcast deliver every record in order per channel`, () =>
    withLink({}, async (l) => {
      await run(l, topo(l, "a2a-1x4", 1, 4, "ALL_TO_ALL", "hash"), 20_000);
      await run(l, topo(l, "a2a-4x1", 4, 1, "ALL_TO_ALL", "hash"), 10_000);
      await run(l, topo(l, "a2a-3x3", 3, 3, "ALL_TO_ALL", "rebalance"), 3_000);
      await run(l, topo(l, "bc-2x3", 2, 3, "ALL_TO_ALL", "broadcast"), 3_000);
    }));

  test(`${kind}: POINTWISE forward 4 x 1 and 2 x 2, rescale 1 x 4`, () =>
    withLink({}, async (l) => {
      await run(l, topo(l, "pw-4x1", 4, 1, "POINTWISE", "forward"), 5_000);
      await run(l, topo(l, "pw-2x2", 2, 2, "POINTWISE", "forward"), 5_000);
      await run(l, topo(l, "pw-1x4", 1, 4, "POINTWISE", "rescale"), 8_000);
    }));

  test(`${kind}: consumer before producer (its requests wait or retry), and producer (blocked on backpressure) before consumer`, () =>
    withLink({}, async (l) => {
      await run(l, topo(l, "late-p", 2, 2, "ALL_TO_ALL", "hash"), 5_000, 300);
      await run(l, topo(l, "late-c", 2, 2, "ALL_TO_ALL", "hash"), 20_000, -200);
    }));

  test(`${kind}: a producer that never registers fails the consumer with PartitionNotFound at the deadline`, () =>
    withLink({ partitionRequestTimeoutMs: 300 }, async (l) => {
      const t = topo(l, "missing", 1, 1, "ALL_TO_ALL", "hash");
      const input = l.consumer.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]);
      const t0 = Date.now();
      await assert.rejects(input.next(), (err: { code?: string }) => err.code === ErrorCode.PartitionNotFound);
      const took = Date.now() - t0;
      assert.ok(took >= 250, `failed after ${took} ms, before the 300 ms deadline`);
    }));

  test(`${kind}: a slow consumer bounds the producer's backlog and its unrecycled buffers; nothing is lost`, () =>
    withLink({ maxBacklogBuffers: 4, creditsPerChannel: 2, floatingCreditsPerGate: 2 }, async (l) => {
      const t = topo(l, "bp", 1, 1, "ALL_TO_ALL", "hash");
      const out = l.producer.createOutput(t.producers[0]!.attemptId, [outputOf(t, 0)], { bufferTimeoutMs: -1, bufferRecords: 10 });
      const input = l.consumer.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]);
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
    }));

  test(`${kind}: floating credits are shared by the gate; every channel keeps its exclusive credits`, () =>
    withLink({ maxBacklogBuffers: 4, creditsPerChannel: 2, floatingCreditsPerGate: 3 }, async (l) => {
      const t = topo(l, "float", 4, 1, "ALL_TO_ALL", "hash");
      const outs = t.producers.map((p, i) => l.producer.createOutput(p.attemptId, [outputOf(t, i)], { bufferTimeoutMs: -1, bufferRecords: 8 }));
      const input = l.consumer.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]);
      const producing = Promise.all(outs.map((o, i) => produce(o, i, 1_000)));
      const got = await consume(input, { recycleDelayMs: 1 });
      await producing;
      assert.equal(checkConsumer(t, 0, got, 1_000), null);
      assert.ok(input.stats.maxUnrecycledTotal <= 4 * 2 + 3, `gate held ${input.stats.maxUnrecycledTotal} buffers, bound 11`);
      assert.ok(input.stats.maxUnrecycled <= 2 + 3);
      assert.equal(input.gates[0]!.floatingAvailable, 3);
    }));

  test(`${kind}: the buffer timeout flushes each partial buffer and finish() ends the channel; without a timeout nothing moves until flush()`, () =>
    withLink({}, async (l) => {
      const t = topo(l, "timeout", 1, 1, "ALL_TO_ALL", "forward");
      const out = l.producer.createOutput(t.producers[0]!.attemptId, [outputOf(t, 0)], { bufferTimeoutMs: 20, bufferRecords: 1000 });
      const input = l.consumer.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]);
      for (let i = 0; i < 5; i++) out.emit([0, i, "k"]);
      const b = await input.next();
      assert.equal(b?.records.length, 5, "5 records in one flushed buffer");
      input.recycle(b!);
      // The timer is armed again by the next buffer's first record, not left running meanwhile.
      for (let i = 5; i < 8; i++) out.emit([0, i, "k"]);
      const again = await input.next();
      assert.deepEqual(
        again?.records.map((r) => (r as unknown[])[1]),
        [5, 6, 7],
        "a later partial buffer is flushed by the timeout too",
      );
      input.recycle(again!);
      await out.finish();
      assert.equal(await input.next(), null);

      const t2 = topo(l, "notimeout", 1, 1, "ALL_TO_ALL", "forward");
      const out2 = l.producer.createOutput(t2.producers[0]!.attemptId, [outputOf(t2, 0)], { bufferTimeoutMs: -1, bufferRecords: 1000 });
      const input2 = l.consumer.createInput(t2.consumers[0]!.attemptId, [inputOf(t2, 0)]);
      for (let i = 0; i < 5; i++) out2.emit([0, i, "k"]);
      const pending = input2.next();
      const raced = await Promise.race([pending, new Promise((r) => setTimeout(() => r("nothing"), 150))]);
      assert.equal(raced, "nothing");
      out2.flush();
      const b2 = await pending;
      assert.equal(b2?.records.length, 5);

      const t3 = topo(l, "flushed", 1, 1, "ALL_TO_ALL", "forward");
      const out3 = l.producer.createOutput(t3.producers[0]!.attemptId, [outputOf(t3, 0)], { bufferTimeoutMs: 60_000, bufferRecords: 1000 });
      const input3 = l.consumer.createInput(t3.consumers[0]!.attemptId, [inputOf(t3, 0)]);
      out3.emit([0, 0, "k"]);
      assert.equal(out3.bufferTimerArmed, true, "a partial buffer arms the timeout");
      out3.flush();
      assert.equal(out3.bufferTimerArmed, false, "an explicit flush leaves nothing for the timeout: it is stopped");
      assert.equal((await input3.next())?.records.length, 1);
      out3.emit([0, 1, "k"]);
      assert.equal(out3.bufferTimerArmed, true, "the next record arms it again");
      await out3.finish();
    }));

  test(`${kind}: next() rejects when the task is canceled; a released producer fails its consumer`, () =>
    withLink({}, async (l) => {
      const t = topo(l, "abort", 1, 1, "ALL_TO_ALL", "forward");
      const ac = new AbortController();
      l.producer.createOutput(t.producers[0]!.attemptId, [outputOf(t, 0)], { bufferTimeoutMs: 10 });
      const input = l.consumer.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)], ac.signal);
      const pending = input.next();
      setTimeout(() => ac.abort(), 20);
      await assert.rejects(pending, (err: Error) => err.name === "AbortError");

      const t2 = topo(l, "gone", 1, 1, "ALL_TO_ALL", "forward");
      const producer = t2.producers[0]!.attemptId;
      const out2 = l.producer.createOutput(producer, [outputOf(t2, 0)], { bufferTimeoutMs: 10 });
      const input2 = l.consumer.createInput(t2.consumers[0]!.attemptId, [inputOf(t2, 0)]);
      out2.emit([0, 0, "k"]);
      out2.flush();
      const b = await input2.next();
      assert.equal(b?.records.length, 1);
      l.producer.release(producer);
      await assert.rejects(input2.next(), (err: { code?: string }) => err.code === ErrorCode.TaskFailed);
      assert.throws(
        () => out2.emit([0, 1, "k"]),
        (err: { code?: string }) => err.code === ErrorCode.Shutdown,
      );
    }));
}
