/**
 * The stream-API examples, run in process (test/helpers/local-runtime.ts) through their job mains:
 * examples/windowed-events.ts gives what the plain-loop reference computes, late clicks included, and
 * the same files at parallelism 1, 2 and 4. (Nexmark's queries: nexmark.test.ts.)
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { LocalExecution, runLocally } from "../helpers/local-runtime.js";
import { readLines, startStreamTestEnv, type StreamTestEnv } from "../helpers/stream-env.js";
import { windowedEventsBareLoop } from "../helpers/windowed-events-reference.js";
import windowedEvents from "../../examples/windowed-events.js";

let t: StreamTestEnv;
before(async () => {
  t = await startStreamTestEnv("stream-examples");
});
after(async () => {
  await t.stop();
});

test("windowed-events: the plain loop's windows, re-firings and late clicks, at parallelism 1, 2 and 4", async () => {
  const events = 20_000;
  const ref = windowedEventsBareLoop(events, 50);
  assert.ok(ref.late.length > 100, `${ref.late.length} late clicks`);
  const windows = new Set(ref.windows.map((l) => l.split(" ").slice(0, 3).join(" ")));
  assert.ok(ref.windows.length > windows.size, "some windows fired again for clicks within the allowed lateness");
  for (const p of [1, 2, 4]) {
    const dir = join(t.dir, `windowed-${p}`);
    mkdirSync(dir);
    const spec = await windowedEvents(["--events", String(events), "--output", dir], { parallelism: p });
    await runLocally(spec, { nc: t.nc });
    assert.deepEqual(readLines(join(dir, "windows.txt")), ref.windows, `windows at parallelism ${p}`);
    assert.deepEqual(readLines(join(dir, "late.txt")), ref.late, `late clicks at parallelism ${p}`);
  }
});

test("windowed-events restored from a mid-stream checkpoint at another parallelism writes the same files, late clicks included", async () => {
  const events = 12_000;
  const ref = windowedEventsBareLoop(events, 50);
  const dir1 = join(t.dir, "restore-first");
  const dir2 = join(t.dir, "restore-second");
  mkdirSync(dir1);
  mkdirSync(dir2);
  const args = (dir: string, rate: number) => [
    "--events",
    String(events),
    "--output",
    dir,
    "--checkpoint-interval",
    "3600000",
    ...(rate ? ["--rate", String(rate)] : []),
  ];
  // At 400 clicks per second the source needs 30 s: checkpointed after 1,000 clicks, it is mid-stream.
  const first = LocalExecution.start(await windowedEvents(args(dir1, 400), { parallelism: 2 }), { nc: t.nc });
  await first.accumulatorReaches("clicks.records-out", 1000);
  const cp = await first.checkpoint(1);
  await first.cancel();
  const res = await runLocally(await windowedEvents(args(dir2, 0), { parallelism: 3 }), { nc: t.nc, restoreFrom: cp, storage: first.storage });
  const resumed = res.accumulators["clicks.records-out"] ?? 0;
  assert.ok(resumed > 0 && resumed < events, `the source resumed (${resumed} of ${events} emitted after the restore)`);
  assert.deepEqual(readLines(join(dir2, "windows.txt")), ref.windows);
  assert.deepEqual(readLines(join(dir2, "late.txt")), ref.late);
});
