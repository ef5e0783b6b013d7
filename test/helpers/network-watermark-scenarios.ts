/**
 * The watermark scenarios every link kind must pass (part of describeLinkScenarios): watermarks travel
 * inside the buffers at their places between the records — at a buffer's start, in its middle, several
 * in a row, at its end — while barriers and cancel markers still finish a buffer; a buffer halved for
 * the frame limit keeps each watermark between the same records; and the input's watermark is the
 * minimum over its channels, ended channels not counted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { LinkKind, NetworkConfig } from "../../src/network/index.js";
import type { RecordWriterOutput } from "../../src/network/record-writer.js";
import { withTimeout } from "../../src/core/time.js";
import { elementReader, elementText, inputOf, outputOf, rec, topology, type Element } from "./network-util.js";
import type { LinkPair } from "./network-scenarios.js";

/** Writes records and watermarks to `out`, noting each as the consumer must see it. */
function writer(out: RecordWriterOutput, record: (n: number) => unknown) {
  const expected: string[] = [];
  return {
    expected,
    records(from: number, to: number) {
      for (let n = from; n < to; n++) {
        out.emit(record(n));
        expected.push(JSON.stringify(record(n)));
      }
    },
    watermarks(...ws: number[]) {
      for (const w of ws) {
        out.emitWatermark(w);
        expected.push(`W${w}`);
      }
    },
  };
}

/** Every element until the end, as text. */
async function readAll(read: () => Promise<Element | null>): Promise<string[]> {
  const got: string[] = [];
  for (let e = await withTimeout(read(), 10_000, "the next element"); e !== null; e = await withTimeout(read(), 10_000, "the next element"))
    got.push(elementText(e));
  return got;
}

/** Reads elements until a watermark: returns it (null at the end) with the records before it. */
async function nextWatermark(read: () => Promise<Element | null>): Promise<{ watermark: number | null; records: unknown[] }> {
  const records: unknown[] = [];
  for (;;) {
    const e = await withTimeout(read(), 5_000, "the next watermark");
    if (e === null) return { watermark: null, records };
    if ("record" in e) records.push(e.record);
    else if ("watermark" in e) return { watermark: e.watermark, records };
  }
}

export function describeWatermarkScenarios(kind: Exclude<LinkKind, "blocking">, makeLink: (config?: Partial<NetworkConfig>) => LinkPair): void {
  test(`${kind}: watermarks travel inside buffers at their places (start, middle, in a row, end); barriers and cancel markers still finish a buffer`, async () => {
    const l = makeLink();
    try {
      const t = topology(`${kind}-wm-places`, 1, 1, "ALL_TO_ALL", "forward", l.producerAt, l.consumerAt);
      const out = l.producer.createOutput(t.producers[0]!.attemptId, [outputOf(t, 0)], { bufferTimeoutMs: -1, bufferRecords: 4 });
      const input = l.consumer.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]);
      const w = writer(out, (n) => rec(0, n));
      w.watermarks(10); // the start of a buffer
      w.records(0, 2);
      w.watermarks(11, 12); // the middle, two in a row
      w.records(2, 4); // the 4th record finishes the buffer: the watermarks did not
      w.watermarks(13);
      w.records(4, 5);
      w.watermarks(14); // the end of a buffer
      out.flush();
      w.records(5, 6);
      out.broadcastBarrier({ checkpointId: 1, timestamp: Date.now(), kind: "CHECKPOINT" });
      w.expected.push("B1");
      w.watermarks(15); // a buffer of one watermark, finished by the cancel marker
      out.broadcastCancelMarker(2);
      w.expected.push("A2");
      w.watermarks(16, 17);
      w.records(6, 7);
      const finishing = out.finish();
      assert.deepEqual(await readAll(elementReader(input)), w.expected);
      await finishing;
      // [W10 r0 r1 W11 W12 r2 r3] [W13 r4 W14] [r5] B1 [W15] A2 [W16 W17 r6]
      assert.equal(input.stats.buffersReceived, 5, "watermarks travel in the buffers of the records around them");
      assert.equal(input.currentWatermark, 17);
    } finally {
      l.close();
    }
  });

  test(`${kind}: a buffer halved for the frame limit keeps each watermark between the same records`, async () => {
    const l = makeLink({ maxFrameBytes: 2_000 });
    try {
      const t = topology(`${kind}-wm-halves`, 1, 1, "ALL_TO_ALL", "forward", l.producerAt, l.consumerAt);
      const out = l.producer.createOutput(t.producers[0]!.attemptId, [outputOf(t, 0)], { bufferTimeoutMs: -1, bufferRecords: 16 });
      const input = l.consumer.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]);
      const read = elementReader(input);
      const w = writer(out, (n) => [n, "x".repeat(300)]);
      // Before the consumer's link attached (buffers halved when sent), then after it (halved when encoded).
      for (const base of [0, 100]) {
        w.watermarks(base + 1); // before record 0
        w.records(base, base + 4);
        w.watermarks(base + 2); // at a quarter: where a half is halved again
        w.records(base + 4, base + 8);
        w.watermarks(base + 3, base + 4); // at the half
        w.records(base + 8, base + 9);
        w.watermarks(base + 5);
        w.records(base + 9, base + 15);
        w.watermarks(base + 6); // at the end
        out.flush();
        if (base === 0) {
          const first = await withTimeout(read(), 10_000, "the first element");
          assert.equal(first && elementText(first), w.expected.shift());
        }
      }
      const finishing = out.finish();
      assert.deepEqual(await readAll(read), w.expected);
      await finishing;
      if (kind !== "local") assert.ok(input.stats.buffersReceived >= 8, `${input.stats.buffersReceived} buffers: each of ~4.5 KB was halved below 2,000 bytes`);
    } finally {
      l.close();
    }
  });

  test(`${kind}: the input's watermark is the minimum over its channels, at its place; ended channels do not hold it back`, async () => {
    const l = makeLink();
    try {
      const t = topology(`${kind}-wm-min`, 2, 1, "ALL_TO_ALL", "rebalance", l.producerAt, l.consumerAt);
      const p = [0, 1].map((i) => l.producer.createOutput(t.producers[i]!.attemptId, [outputOf(t, i)], { bufferTimeoutMs: 5, bufferRecords: 64 }));
      const input = l.consumer.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]);
      const read = elementReader(input);
      p[0]!.emit("a1");
      p[0]!.emitWatermark(100);
      p[1]!.emitWatermark(50);
      let w = await nextWatermark(read);
      assert.equal(w.watermark, 50, "min(100, 50)");
      p[1]!.emitWatermark(200);
      w = await nextWatermark(read);
      assert.equal(w.watermark, 100, "min(100, 200)");
      p[1]!.emit("b1");
      p[0]!.emit("a2");
      p[0]!.emitWatermark(150);
      p[0]!.emit("a3");
      w = await nextWatermark(read);
      assert.equal(w.watermark, 150);
      assert.ok(w.records.includes("a2"), "a record arrives before the watermark that follows it on its channel");
      assert.ok(!w.records.includes("a3"), "and the record after it after it");
      await p[0]!.finish();
      w = await nextWatermark(read);
      assert.equal(w.watermark, 200, "the ended channel no longer counts");
      assert.deepEqual(w.records, ["a3"]);
      p[1]!.emitWatermark(180);
      p[1]!.emitWatermark(300);
      w = await nextWatermark(read);
      assert.equal(w.watermark, 300, "watermarks never go back");
      await p[1]!.finish();
      w = await nextWatermark(read);
      assert.equal(w.watermark, null, "the end itself is no watermark event of the input");
      assert.equal(input.currentWatermark, 300);
    } finally {
      l.close();
    }
  });
}
