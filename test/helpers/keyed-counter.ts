/** Runs of examples/keyed-counter.ts in tests: building its JobGraph and checking its committed output. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadJob } from "../../src/sdk/load-job.js";
import { packageRoot } from "../../src/cluster/paths.js";
import type { JobGraphSpec } from "../../src/jobgraph/types.js";

/** Every committed (visible) line of an output directory (in-progress files start with a dot). */
export function committedLines(dir: string): string[] {
  return committedLinesByFile(dir).map((l) => l.line);
}

/** Every committed line of an output directory with the file that holds it. */
export function committedLinesByFile(dir: string): Array<{ line: string; file: string }> {
  return readdirSync(dir)
    .filter((f) => !f.startsWith("."))
    .flatMap((file) =>
      readFileSync(join(dir, file), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => ({ line, file })),
    );
}

/** The keyed-counter JobGraph for `events` events over `keys` keys, with a generous fixed-delay restart strategy. */
export async function keyedCounterJob(opts: {
  events: number;
  keys: number;
  rate: number;
  intervalMs: number;
  output: string;
  parallelism?: number;
}): Promise<JobGraphSpec> {
  const spec = await loadJob(
    join(packageRoot(), "examples/keyed-counter.ts"),
    [
      "--events",
      String(opts.events),
      "--keys",
      String(opts.keys),
      "--rate",
      String(opts.rate),
      "--checkpoint-interval",
      String(opts.intervalMs),
      "--output",
      opts.output,
    ],
    { parallelism: opts.parallelism ?? 2 },
  );
  spec.config = { ...spec.config, restartStrategy: { type: "fixed-delay", attempts: 50, delayMs: 100 } };
  return spec;
}

/** Asserts that `dir` holds each of the `events` lines `<key> <i> <count>` exactly once. */
export function assertExactlyOnce(dir: string, events: number, keys: number): void {
  const lines = committedLines(dir);
  const expected = new Set<string>();
  for (let i = 0; i < events; i++) expected.add(`k${i % keys} ${i} ${Math.floor(i / keys) + 1}`);
  assert.equal(new Set(lines).size, lines.length, "no line twice");
  assert.equal(lines.length, events, `exactly ${events} committed lines (no loss, no duplicate)`);
  for (const l of lines) assert.ok(expected.has(l), `line ${l} is one of the expected events with its count`);
}
