/**
 * A job whose single NATS server is SIGKILLed and started again on its port (same JetStream store):
 * every connection is re-established, buffers and credits in flight are gone (NATS core is at most
 * once), and credit-based flow control would wait for them forever. Tasks that exchanged data with
 * another TaskExecutor therefore fail with RemoteLinkInterrupted, the failover restores them from
 * the latest checkpoint, and the output stays exactly once.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer, type NatsServerHandle } from "../../src/cluster/nats-server.js";
import { waitFor } from "../../src/core/time.js";
import { ErrorCode } from "../../src/core/errors.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { assertExactlyOnce, committedLines, keyedCounterJob } from "../helpers/keyed-counter.js";

const work = mkdtempSync(join(tmpdir(), "eddy-nats-restart-"));
const storeDir = join(work, "jetstream");
let server: NatsServerHandle | undefined;
let cluster: ProcessCluster | undefined;
after(async () => {
  await cluster?.stop();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

test("a job rides out its NATS server's SIGKILL and restart: tasks with data links to another TaskExecutor fail with RemoteLinkInterrupted and restore, output exactly once", async () => {
  server = await startNatsServer({ port: 0, storeDir });
  const port = server.port;
  // One slot per TaskExecutor: each runs one source and one counter, and the hash edge crosses between them.
  cluster = await startProcessCluster({ natsUrl: server.url, taskExecutors: 2, slots: 1, logLevel: "info" });
  const c = cluster;
  const events = 9_000;
  const keys = 5;
  const out = join(work, "out");
  const { jobId } = await c.dispatcher.ask<{ jobId: string }>("submitJob", await keyedCounterJob({ events, keys, rate: 2_500, intervalMs: 200, output: out }));
  await waitForJob(c.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed >= 2, 60_000, "running with two checkpoints");
  await waitFor(() => committedLines(out).length > 0 || undefined, 20_000, "committed output before the server dies");

  await server.kill();
  await new Promise((r) => setTimeout(r, 500));
  server = await startNatsServer({ port, storeDir });

  const result = await awaitJobResult(c.dispatcher, jobId, 90_000, { acrossFailover: true });
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assertExactlyOnce(out, events, keys);
  // The tasks' own verdict on their links: each TaskExecutor's worker lost its server mid-exchange.
  const failed = c.taskExecutors.flatMap((p) => p.stderrLines.filter((l) => l.includes('"task failed"') && l.includes(ErrorCode.RemoteLinkInterrupted)));
  assert.ok(
    failed.length >= 1,
    `some task failed with ${ErrorCode.RemoteLinkInterrupted}; TaskExecutor logs:\n${c.taskExecutors.map((p) => p.stderr.split("\n").slice(-20).join("\n")).join("\n---\n")}`,
  );
});
