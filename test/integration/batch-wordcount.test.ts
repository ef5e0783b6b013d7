import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadJob } from "../../src/sdk/load-job.js";
import { packageRoot } from "../../src/cluster/paths.js";
import { startInProcessCluster, type InProcessCluster } from "../helpers/in-process-cluster.js";
import { awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { assertCounts, independentCount, makeText, readCounts } from "../helpers/wordcount.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";
import type { JobGraphSpec } from "../../src/jobgraph/types.js";

let cluster: InProcessCluster;
let work: string;
let input: string;
let expected: Map<string, number>;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-batch-"));
  input = join(work, "input.txt");
  writeFileSync(input, makeText(20_000));
  expected = independentCount(readFileSync(input));
  // One TaskExecutor with ONE slot: a parallelism-4 job has 8 tasks after chaining.
  cluster = await startInProcessCluster({ taskExecutors: 1, slots: 1 });
});
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

function batchWordCount(output: string, extra: Partial<JobGraphSpec["config"]> = {}): Promise<JobGraphSpec> {
  return loadJob(join(packageRoot(), "examples/wordcount.ts"), ["--input", input, "--output", output, "--execution-mode", "batch"], { parallelism: 4 }).then(
    (spec) => ({
      ...spec,
      config: { ...spec.config, ...extra },
    }),
  );
}

/** [earliest, latest] of a state's timestamps over a vertex's subtasks. */
function span(v: JobDetails["vertices"][number], state: string): [number, number] {
  const ts = v.subtasks.map((s) => s.timestamps[state]!);
  return [Math.min(...ts), Math.max(...ts)];
}

test("batch WordCount with BLOCKING edges runs stage by stage in fewer slots than subtasks, and counts right", async () => {
  const output = join(work, "out");
  const spec = await batchWordCount(output);
  assert.ok(
    spec.edges.some((e) => e.resultPartitionType === "BLOCKING"),
    "the shuffle is BLOCKING in batch mode",
  );
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const result = await awaitJobResult(cluster.dispatcher, jobId, 60_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assertCounts(readCounts(output), expected);
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  const tasks = d.vertices.reduce((n, v) => n + v.parallelism, 0);
  assert.equal(d.vertices.length, 2, "two chained stages");
  assert.ok(tasks > 1, `${tasks} tasks ran in a cluster of 1 slot`);
  const [map, reduce] = d.vertices as [JobDetails["vertices"][number], JobDetails["vertices"][number]];
  assert.ok(span(reduce, "RUNNING")[0] >= span(map, "FINISHED")[1], "the reduce stage started after the whole map stage finished");
});

test("a failed consumer region restarts alone and re-reads the BLOCKING partitions; producers do not run again", async () => {
  const output = join(work, "blocked-out");
  writeFileSync(output, "a file where the sink wants a directory: every sink fails until it is removed");
  const spec = await batchWordCount(output, { restartStrategy: { type: "fixed-delay", attempts: 10, delayMs: 300 } });
  const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
  await waitForJob(cluster.dispatcher, jobId, (d) => d.vertices[1]!.subtasks.some((s) => s.state === "FAILED" || s.attempt > 0), 30_000, "a sink failed");
  rmSync(output, { force: true });
  const result = await awaitJobResult(cluster.dispatcher, jobId, 60_000);
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assertCounts(readCounts(output), expected);
  const d = await cluster.dispatcher.ask<JobDetails>("requestJob", { jobId });
  const [map, reduce] = d.vertices as [JobDetails["vertices"][number], JobDetails["vertices"][number]];
  assert.deepEqual(
    map.subtasks.map((s) => s.attempt),
    [0, 0, 0, 0],
    "the producers ran once",
  );
  assert.ok(
    reduce.subtasks.some((s) => s.attempt >= 1),
    "at least one consumer region restarted",
  );
});
