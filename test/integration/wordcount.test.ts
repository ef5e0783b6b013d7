import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { runEddy } from "../helpers/eddy-process.js";
import { assertCounts, independentCount, makeText, readCounts } from "../helpers/wordcount.js";

let cluster: ProcessCluster;
let work: string;
let input: string;
let expected: Map<string, number>;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-wc-"));
  input = join(work, "input.txt");
  writeFileSync(input, makeText(60_000));
  expected = independentCount(readFileSync(input));
  cluster = await startProcessCluster({ taskExecutors: 2, slots: 2 });
});

after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

for (const parallelism of [1, 4]) {
  test(`WordCount at parallelism ${parallelism} across two TaskExecutor processes equals an independent count`, async () => {
    const output = join(work, `out-${parallelism}`);
    const r = await runEddy(["run", "examples/wordcount.ts", "--parallelism", String(parallelism), "--", "--input", input, "--output", output], {
      natsUrl: cluster.natsUrl,
      prefix: cluster.prefix,
      timeoutMs: 90_000,
    });
    assert.equal(r.code, 0, `eddy run exits 0 for FINISHED\n${r.stdout}\n${r.stderr}`);
    const id = /^Job ([0-9a-f]{32}) submitted$/m.exec(r.stdout)?.[1];
    assert.ok(id, `prints "Job <id> submitted": ${r.stdout}`);
    assert.match(r.stdout, /FINISHED/);
    assertCounts(readCounts(output), expected);
    const details = await cluster.dispatcher.ask<{ state: string; vertices: Array<{ parallelism: number; subtasks: Array<{ taskExecutor: string }> }> }>(
      "requestJob",
      { jobId: id },
    );
    assert.equal(details.state, "FINISHED");
    assert.ok(details.vertices.every((v) => v.parallelism === parallelism));
    const tes = new Set(details.vertices.flatMap((v) => v.subtasks.map((s) => s.taskExecutor)));
    assert.equal(tes.size, Math.min(parallelism, 2), "subtasks ran on as many TaskExecutors as the parallelism allows");
  });
}
