/**
 * Every log line of a whole `eddy cluster` (its own, the JobManager's, the TaskExecutor's and its
 * tasks', at debug level, through a checkpointed job's run, a refused request and the job's
 * cancellation) is one JSON object with unique keys. JSON.parse keeps the last of two equal keys
 * silently, so the keys are checked by a scanner of their own.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { runEddy, spawnEddy, type EddyProcess } from "../helpers/eddy-process.js";
import { duplicateKeys } from "../helpers/json-keys.js";
import type { JobDetails } from "../../src/cli/job-commands.js";
import { parseReadyLine, readyEnv } from "../helpers/cluster-ready.js";

const work = mkdtempSync(join(tmpdir(), "eddy-log-lines-"));
const prefix = `logs${process.pid}`;
let cluster: EddyProcess | undefined;

after(async () => {
  if (cluster && !cluster.exit) await cluster.stop(30_000).catch(() => cluster?.kill());
  rmSync(work, { recursive: true, force: true });
});

test("every stderr line of eddy cluster at debug level is a JSON object with unique keys", async () => {
  cluster = spawnEddy(["cluster", "--port", "0", "--task-executors", "1", "--slots", "2"], { prefix, logLevel: "debug" });
  const ready = await cluster.waitForLine(/^eddy cluster ready /, 90_000);
  const env = readyEnv(parseReadyLine(ready), prefix);

  const job = join(work, "checkpointed.mjs");
  writeFileSync(
    job,
    `export default () => ({ name: "Checkpointed", config: { checkpointing: { intervalMs: 200 } }, vertices: [
      { id: "src", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 1e15, ratePerSecond: 1000 } },
      { id: "sink", invokable: "sink.discard", parallelism: 2 } ],
      edges: [{ source: "src", target: "sink", partitioner: "rebalance" }] });\n`,
  );
  const run = await runEddy(["run", job, "--detached"], env);
  assert.equal(run.code, 0, run.stderr);
  const jobId = /^Job ([0-9a-f]{32}) submitted$/m.exec(run.stdout)![1]!;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const st = await runEddy(["status", jobId, "--json"], env);
    assert.equal(st.code, 0, st.stderr);
    if (((JSON.parse(st.stdout) as JobDetails).checkpoints?.completed ?? 0) >= 1) break;
    assert.ok(Date.now() < deadline, "no checkpoint completed within 60 s");
    await sleep(200);
  }
  // A refusal: the Dispatcher logs it (debug) with the refusal's message.
  const unknown = await runEddy(["status", "0123456789abcdef0123456789abcdef"], env);
  assert.equal(unknown.code, 1, unknown.stderr);
  const cancel = await runEddy(["cancel", jobId], { ...env, timeoutMs: 60_000 });
  assert.equal(cancel.code, 0, cancel.stderr);
  assert.deepEqual(await cluster.stop(60_000), { code: 0, signal: null });

  const lines = cluster.stderrLines.filter((l) => l.trim() !== "");
  const bad: string[] = [];
  const components = new Set<string>();
  for (const line of lines) {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      bad.push(`not JSON: ${line.slice(0, 200)}`);
      continue;
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      bad.push(`not an object: ${line.slice(0, 200)}`);
      continue;
    }
    const dups = duplicateKeys(line);
    if (dups.length) bad.push(`duplicate ${dups.join(", ")}: ${line.slice(0, 300)}`);
    components.add(String((v as { component?: unknown }).component));
  }
  assert.deepEqual(bad, [], `${bad.length} of ${lines.length} lines`);
  for (const c of ["cluster", "jobmanager", "taskexecutor", "Task"]) assert.ok(components.has(c), `lines of ${c} were checked (${[...components].join(", ")})`);

  const started = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "nats-server started");
  assert.ok(started, "the nats-server started line");
  assert.equal(started.pid, cluster.pid, "pid is the cluster's own");
  assert.equal(typeof started.serverPid, "number");
  assert.notEqual(started.serverPid, cluster.pid);
});
