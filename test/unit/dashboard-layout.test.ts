/** The dashboard's pure parts: the job-graph layout, number formats, the watermark spread (src/web/ui, tested without a browser). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { layeredLayout, type LayoutInput } from "../../src/web/ui/layout.js";
import { backPressureLevel, bytes, compact, duration } from "../../src/web/ui/format.js";
import { watermarkSpread } from "../../src/web/ui/watermark-spread.js";

const OPTS = { nodeWidth: 100, nodeHeight: 40, gapX: 50, gapY: 10, margin: 5 };

test("every vertex lies one layer right of its furthest input, and every edge runs left to right", () => {
  const g: LayoutInput[] = [
    { id: "sink", inputs: ["join", "src2"] },
    { id: "src1", inputs: [] },
    { id: "src2", inputs: [] },
    { id: "map", inputs: ["src1"] },
    { id: "join", inputs: ["map", "src2"] },
  ];
  const l = layeredLayout(g, OPTS);
  const layer = (id: string) => l.nodes.get(id)!.layer;
  assert.deepEqual(
    g.map((v) => [v.id, layer(v.id)]),
    [
      ["sink", 3],
      ["src1", 0],
      ["src2", 0],
      ["map", 1],
      ["join", 2],
    ],
  );
  assert.equal(l.edges.length, 5);
  for (const e of l.edges) assert.ok(e.x2 > e.x1, `${e.from} -> ${e.to} runs left to right`);
  assert.equal(l.width, 2 * 5 + 4 * 100 + 3 * 50);
});

test("vertices of one layer never overlap and the barycenter order uncrosses a swapped fan-in", () => {
  // a1 feeds b2 and a2 feeds b1: listed in crossing order, the sweeps put b1/b2 in their inputs' order.
  const g: LayoutInput[] = [
    { id: "a1", inputs: [] },
    { id: "a2", inputs: [] },
    { id: "b1", inputs: ["a2"] },
    { id: "b2", inputs: ["a1"] },
  ];
  const l = layeredLayout(g, OPTS);
  const y = (id: string) => l.nodes.get(id)!.y;
  assert.ok(Math.abs(y("a1") - y("a2")) >= OPTS.nodeHeight + OPTS.gapY);
  assert.equal(Math.sign(y("b2") - y("b1")), Math.sign(y("a1") - y("a2")), "no crossing edges");
});

test("a wide graph keeps one box per vertex whatever its parallelism, and unknown inputs and cycles are drawn without hanging", () => {
  const wide: LayoutInput[] = [
    { id: "src", inputs: [] },
    ...Array.from({ length: 200 }, (_, i) => ({ id: `m${i}`, inputs: ["src"] })),
    { id: "x", inputs: ["ghost", "x"] },
  ];
  const l = layeredLayout(wide, OPTS);
  assert.equal(l.nodes.size, 202);
  const cyc = layeredLayout(
    [
      { id: "a", inputs: ["b"] },
      { id: "b", inputs: ["a"] },
    ],
    OPTS,
  );
  assert.equal(cyc.nodes.size, 2);
  assert.deepEqual(layeredLayout([], OPTS).nodes.size, 0);
});

test("back-pressure levels use Flink's thresholds 0.10 and 0.50", () => {
  assert.deepEqual([0, 0.1, 0.11, 0.5, 0.51, 1].map(backPressureLevel), ["ok", "ok", "low", "low", "high", "high"]);
  assert.equal(backPressureLevel(undefined), undefined);
});

test("numbers, sizes and durations read short", () => {
  assert.deepEqual([0, 12.5, 999, 1234, 1_500_000, 2e9].map(compact), ["0", "12.5", "999", "1.2k", "1.5M", "2G"]);
  assert.deepEqual([0, 1023, 1536, 5 * 1024 ** 3].map(bytes), ["0 B", "1023 B", "1.5 KiB", "5.0 GiB"]);
  assert.deepEqual([120, 5200, 65_000, 3_720_000, 90_000_000].map(duration), ["120ms", "5.2s", "1m 05s", "1h 02m", "1d 01h"]);
  assert.equal(duration(undefined), "–");
});

test("the slowest subtask is the one with the lowest watermark; subtasks without one are left out", () => {
  const entries = [
    { id: "0.currentInputWatermark", value: "5000" },
    { id: "1.currentInputWatermark", value: "2000" },
    { id: "2.currentInputWatermark", value: "-9223372036854775808" },
    { id: "3.currentInputWatermark", value: 9000 },
    { id: "3.currentOutputWatermark", value: 1 },
  ];
  assert.deepEqual(watermarkSpread(entries), { slowest: 1, spread: 7000 });
  assert.equal(watermarkSpread([{ id: "0.currentInputWatermark", value: "-9223372036854775808" }]), undefined);
});
