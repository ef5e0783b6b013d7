/**
 * Watermarks in the data plane: the WATERMARK frame, and an input's watermark as the minimum over its
 * channels — in-band after the records before it, advancing only when the slowest channel advances,
 * not held back by ended channels, and no event for the end itself (the bound operator's
 * `nextElement()` turns the end into MAX_WATERMARK) — over same-thread links and over NATS.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { decodeWatermarkFrame, encodeEventFrame, encodeWatermarkFrame, frameKind, FrameKind } from "../../src/network/frame.js";
import { NetworkEnvironment, type UnionInput } from "../../src/network/index.js";
import { connectNats, type NatsConnection } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { isInputBatch, isWatermarkEvent, MAX_WATERMARK, type InputEvent } from "../../src/runtime/api.js";
import { withTimeout } from "../../src/core/time.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { inputOf, outputOf, topology } from "../helpers/network-util.js";
import { runLocally } from "../helpers/local-runtime.js";
import { StreamExecutionEnvironment, WatermarkStrategy } from "../../src/sdk/index.js";
import { readLines, startStreamTestEnv } from "../helpers/stream-env.js";

let nats: TestNats;
let nc: NatsConnection;
before(async () => {
  nats = await startTestNats();
  nc = await connectNats(nats.url, "watermarks");
});
after(async () => {
  await nc.close();
  await nats.stop();
});

test("WATERMARK frames round-trip, also ±Infinity; NaN is refused", () => {
  for (const w of [0, 1_700_000_000_123, -5, MAX_WATERMARK, -Infinity]) {
    const f = encodeWatermarkFrame(3, 9, w);
    assert.equal(frameKind(f), FrameKind.Watermark);
    assert.equal(decodeWatermarkFrame(f), w);
    assert.deepEqual(encodeEventFrame(3, 9, { watermark: w }), f);
  }
  assert.throws(() => decodeWatermarkFrame(encodeWatermarkFrame(0, 0, Number.NaN)), /NaN/);
});

/** Reads events until a watermark (returned with the records seen before it) or the end (null). */
async function nextWatermark(input: UnionInput): Promise<{ watermark: number | null; records: unknown[] }> {
  const records: unknown[] = [];
  for (;;) {
    const e: InputEvent | null = await withTimeout(input.nextEvent(), 5_000, "the next watermark");
    if (e === null) return { watermark: null, records };
    if (isInputBatch(e)) {
      records.push(...e.records);
      input.recycle(e);
    } else if (isWatermarkEvent(e)) return { watermark: e.watermark, records };
  }
}

for (const link of ["same-thread", "NATS"] as const) {
  test(`the input's watermark is the minimum over channels; ended channels do not hold it back (${link})`, async () => {
    const tag = `wm-${link === "NATS" ? "remote" : "local"}`;
    const producerLoc = { taskExecutorId: "teA", slotIndex: 0 };
    const consumerLoc = link === "NATS" ? { taskExecutorId: "teB", slotIndex: 0 } : producerLoc;
    const subjects = new Subjects(`eddy-test-${tag}`);
    const producerEnv = new NetworkEnvironment({ nc, subjects, location: producerLoc });
    const consumerEnv = link === "NATS" ? new NetworkEnvironment({ nc, subjects, location: consumerLoc }) : producerEnv;
    const t = topology(
      tag,
      2,
      1,
      "ALL_TO_ALL",
      "rebalance",
      () => producerLoc,
      () => consumerLoc,
    );
    const p = [0, 1].map((i) => producerEnv.createOutput(t.producers[i]!.attemptId, [outputOf(t, i)], { bufferTimeoutMs: 5, bufferRecords: 64 }));
    const input = consumerEnv.createInput(t.consumers[0]!.attemptId, [inputOf(t, 0)]);
    try {
      p[0]!.emit("a1");
      p[0]!.emitWatermark(100);
      p[1]!.emitWatermark(50);
      let w = await nextWatermark(input);
      assert.equal(w.watermark, 50, "min(100, 50)");
      p[1]!.emitWatermark(200);
      w = await nextWatermark(input);
      assert.equal(w.watermark, 100, "min(100, 200)");
      p[1]!.emit("b1");
      p[0]!.emit("a2");
      p[0]!.emitWatermark(150);
      w = await nextWatermark(input);
      assert.equal(w.watermark, 150);
      assert.ok(w.records.includes("a2"), "a record arrives before the watermark that follows it on its channel");
      await p[0]!.finish();
      w = await nextWatermark(input);
      assert.equal(w.watermark, 200, "the ended channel no longer counts");
      p[1]!.emitWatermark(180);
      p[1]!.emitWatermark(300);
      w = await nextWatermark(input);
      assert.equal(w.watermark, 300, "watermarks never go back");
      await p[1]!.finish();
      w = await nextWatermark(input);
      assert.equal(w.watermark, null, "the end itself is no watermark event of the input");
      assert.equal(input.currentWatermark, 300);
    } finally {
      producerEnv.close();
      if (consumerEnv !== producerEnv) consumerEnv.close();
    }
  });
}

test("a window after a union fires only when the slower stream's watermark passes its end", async () => {
  const env2 = await startStreamTestEnv("wm-union");
  try {
    // Stream A is far ahead in event time; B is behind. Windows of B's keys must not be cut short by A.
    type Ev = { k: string; ts: number };
    const env = new StreamExecutionEnvironment("union-min", { parallelism: 2 });
    const strategy = WatermarkStrategy.forMonotonousTimestamps<Ev>()
      .withTimestampAssigner((e) => e.ts)
      .emitEvery(1);
    const a = env.fromGenerator(50, (i) => ({ k: "a", ts: 100_000 + i })).assignTimestampsAndWatermarks(strategy);
    const b = env.fromGenerator(300, (i) => ({ k: "b", ts: i * 10 }), { ratePerSecond: 3000 }).assignTimestampsAndWatermarks(strategy);
    const out = env2.file("union.txt");
    a.union(b)
      .keyBy((e) => e.k)
      .window({ kind: "tumbling", size: 1000 })
      .process<string>((k, w, es, o) => o.collect(`${k} ${w.start} ${es.length}`))
      .collectToFile(out, { sorted: true });
    const res = await runLocally(env.build(), { nc: env2.nc });
    assert.deepEqual(readLines(out), ["a 100000 50", "b 0 100", "b 1000 100", "b 2000 100"]);
    const late = Object.entries(res.accumulators)
      .filter(([k]) => k.includes("late-records"))
      .reduce((s, [, v]) => s + v, 0);
    assert.equal(late, 0, "no element of B was late although A ran far ahead");
  } finally {
    await env2.stop();
  }
});
