/**
 * Window assignment (src/runtime/streaming/windows.ts): the windows a timestamp belongs to, for
 * tumbling (with an offset), sliding and session assigners, at negative times and at epoch times
 * beyond V8's small integers, as Flink's TimeWindow.getWindowStartWithOffset places them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { assignWindows, latestWindowStart, windowStep, type WindowAssignerSpec } from "../../src/runtime/streaming/windows.js";

function windowsOf(spec: WindowAssignerSpec, ts: number): string[] {
  const out: string[] = [];
  assignWindows(spec, ts, (start, end) => void out.push(`${start}-${end}`));
  return out;
}

test("a tumbling window holds the times from its start up to before its end, also before 0 and with an offset", () => {
  const spec: WindowAssignerSpec = { kind: "tumbling", size: 1000 };
  assert.deepEqual(windowsOf(spec, 0), ["0-1000"]);
  assert.deepEqual(windowsOf(spec, 999), ["0-1000"]);
  assert.deepEqual(windowsOf(spec, 1000), ["1000-2000"]);
  assert.deepEqual(windowsOf(spec, -1), ["-1000-0"]);
  assert.deepEqual(windowsOf(spec, -1000), ["-1000-0"]);
  assert.deepEqual(windowsOf(spec, 1_700_000_000_123), ["1700000000000-1700000001000"]);
  const offset: WindowAssignerSpec = { kind: "tumbling", size: 1000, offset: 100 };
  assert.deepEqual(windowsOf(offset, 99), ["-900-100"]);
  assert.deepEqual(windowsOf(offset, 100), ["100-1100"]);
  assert.deepEqual(windowsOf(offset, 1099), ["100-1100"]);
});

test("a time is in size/slide sliding windows, latest start first; a session window is [time, time + gap)", () => {
  const spec: WindowAssignerSpec = { kind: "sliding", size: 1000, slide: 250 };
  assert.deepEqual(windowsOf(spec, 1100), ["1000-2000", "750-1750", "500-1500", "250-1250"]);
  assert.deepEqual(windowsOf(spec, 1000), ["1000-2000", "750-1750", "500-1500", "250-1250"]);
  assert.deepEqual(windowsOf(spec, 999), ["750-1750", "500-1500", "250-1250", "0-1000"]);
  assert.deepEqual(windowsOf({ kind: "sliding", size: 1000, slide: 300 }, 100), ["0-1000", "-300-700", "-600-400"]);
  assert.deepEqual(windowsOf({ kind: "session", gap: 50 }, 1_700_000_000_123), ["1700000000123-1700000000173"]);
});

test("the window operator's walk (latest start, then one step back at a time) meets the same windows", () => {
  const specs: Array<Exclude<WindowAssignerSpec, { kind: "session" }>> = [
    { kind: "tumbling", size: 1000, offset: 250 },
    { kind: "sliding", size: 1000, slide: 300, offset: 100 },
  ];
  for (const spec of specs) {
    for (const ts of [-2501, -1, 0, 99, 100, 999, 1_700_000_000_777]) {
      const walked: string[] = [];
      for (let s = latestWindowStart(spec, ts); s > ts - spec.size; s -= windowStep(spec)) walked.push(`${s}-${s + spec.size}`);
      assert.deepEqual(walked, windowsOf(spec, ts), `${spec.kind} at ${ts}`);
      for (const w of walked) {
        const [start, end] = w.split(/(?<=\d)-/).map(Number) as [number, number];
        assert.ok(start <= ts && ts < end, `${ts} is in ${w}`);
      }
    }
  }
});
