/**
 * Watermarks through the runtime: a window after a union fires by the slower stream's watermark.
 * The data plane's part (watermarks inside buffers, an input's watermark as the minimum over its
 * channels) is in the link scenarios every link kind runs (test/helpers/network-watermark-scenarios.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runLocally } from "../helpers/local-runtime.js";
import { StreamExecutionEnvironment, WatermarkStrategy } from "../../src/sdk/index.js";
import { readLines, startStreamTestEnv } from "../helpers/stream-env.js";

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
