/**
 * `eddy cluster --reactive`: a job submitted with `eddy run` runs on the one TaskExecutor the cluster
 * started; starting one more `eddy taskexecutor` process is all it takes for it to run wider.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startTestNats } from "../helpers/nats-server.js";
import { spawnEddy, runEddy } from "../helpers/eddy-process.js";
import { connectNats } from "../../src/rpc/nats.js";
import { Gateway } from "../../src/rpc/gateway.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { allRunning, waitForJob } from "../helpers/jobs.js";

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});

test("eddy cluster --reactive: a new eddy taskexecutor widens the running job", async () => {
  const nats = await startTestNats({ jetstream: true });
  cleanups.push(() => nats.stop());
  const prefix = `reactive${process.pid}`;
  const env = { EDDY_ADAPTIVE_SCALING_INTERVAL_MS: "500" };
  const cluster = spawnEddy(["cluster", "--nats", nats.url, "--task-executors", "1", "--slots", "1", "--reactive"], { prefix, env });
  cleanups.push(() => cluster.stop(15_000).catch(() => cluster.kill()));
  await cluster.waitForLine(/^eddy cluster ready /, 90_000);
  const job = JSON.stringify({
    name: "endless",
    vertices: [
      { id: "numbers", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 1e12, ratePerSecond: 2000 } },
      { id: "out", invokable: "sink.discard", parallelism: 1 },
    ],
    edges: [{ source: "numbers", target: "out", partitioner: "rebalance" }],
  });
  const nc = await connectNats(nats.url, "reactive-test");
  cleanups.push(() => nc.close());
  const dispatcher = new Gateway(nc, new Subjects(prefix).dispatcher);
  const { jobId } = await dispatcher.ask<{ jobId: string }>("submitJob", JSON.parse(job));
  await waitForJob(dispatcher, jobId, (d) => allRunning(d) && d.vertices.every((v) => v.parallelism === 1), 30_000, "running at 1");
  const worker = spawnEddy(["taskexecutor", "--slots", "2"], { natsUrl: nats.url, prefix });
  cleanups.push(() => worker.stop(10_000).catch(() => worker.kill()));
  const wide = await waitForJob(
    dispatcher,
    jobId,
    (d) => allRunning(d) && d.vertices.every((v) => v.parallelism === 3),
    30_000,
    "running at 3 after the new worker joined",
  );
  assert.equal(new Set(wide.vertices[0]!.subtasks.map((s) => s.taskExecutor)).size, 2, "subtasks on both workers");
  const r = await runEddy(["cancel", jobId], { natsUrl: nats.url, prefix, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
});
