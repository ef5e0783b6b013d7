/**
 * Adaptive batch scheduling end to end: a batch WordCount whose reducer parallelism is decided when
 * the map stage has finished, from the bytes the mappers wrote into the BLOCKING shuffle.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadJob } from "../../src/sdk/load-job.js";
import { packageRoot } from "../../src/cluster/paths.js";
import { startInProcessCluster, type InProcessCluster } from "../helpers/in-process-cluster.js";
import { awaitJobResult } from "../helpers/jobs.js";
import { assertCounts, independentCount, makeText, readCounts } from "../helpers/wordcount.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";

let cluster: InProcessCluster;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-adaptive-batch-"));
  cluster = await startInProcessCluster({ taskExecutors: 1, slots: 2 });
});
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

const BYTES_PER_TASK = 64 * 1024;

/**
 * Runs the batch WordCount on `lines` lines of text and `distinct` more words seen once each (the sum's
 * combiner leaves about one record per distinct word and mapper in the shuffle, so its volume grows
 * with them) with the adaptive batch scheduler; returns the reducer's parallelism.
 */
async function run(name: string, lines: number, distinct = 0): Promise<{ reducers: number; mappers: number }> {
  const input = join(work, `${name}.txt`);
  let once = "";
  for (let i = 0; i < distinct; i++) once += i % 10 === 9 ? `once${i}\n` : `once${i} `;
  writeFileSync(input, `${makeText(lines)}\n${once}`);
  const output = join(work, `${name}-out`);
  const spec = await loadJob(join(packageRoot(), "examples/wordcount.ts"), ["--input", input, "--output", output, "--execution-mode", "batch"], {
    parallelism: 2,
  });
  spec.config = { ...spec.config, scheduler: "adaptive-batch", adaptiveBatch: { avgDataVolumePerTaskBytes: BYTES_PER_TASK, maxParallelism: 6 } };
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const result = await awaitJobResult(cluster.dispatcher, jobId, 90_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assert.equal(Object.keys(result.accumulators).filter((k) => k.startsWith("eddy.")).length, 0, "internal byte counts stay out of the JobResult");
  assertCounts(readCounts(output), independentCount(readFileSync(input)));
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  assert.equal(d.vertices.length, 2);
  const [map, reduce] = d.vertices as [JobDetails["vertices"][number], JobDetails["vertices"][number]];
  assert.equal(reduce.subtasks.length, reduce.parallelism);
  assert.ok(reduce.subtasks.every((s) => s.state === "FINISHED"));
  return { mappers: map.parallelism, reducers: reduce.parallelism };
}

test("a small input gets one reducer, a large one many (bounded by the max), and both count right", async () => {
  const small = await run("small", 100);
  const large = await run("large", 30_000, 30_000);
  assert.equal(small.mappers, 2);
  assert.equal(large.mappers, 2, "sources keep their parallelism");
  assert.equal(small.reducers, 1, "a few KB fit in one subtask");
  assert.ok(large.reducers > small.reducers, `large input: ${large.reducers} reducers`);
  assert.ok(large.reducers <= 6, "bounded by adaptiveBatch.maxParallelism");
  console.log(
    `adaptive batch: 100 lines -> ${small.reducers} reducer(s), 30000 lines and 30000 distinct words -> ${large.reducers} reducers (${BYTES_PER_TASK} bytes per subtask)`,
  );
});
