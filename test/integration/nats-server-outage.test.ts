/**
 * The NATS server under Eddy stopped with SIGTERM (an operator's restart, not a crash) and kept down
 * for seconds: every Eddy process stays alive and waits for it without spinning, and the running job
 * resumes when it is back (same port, same JetStream store) and finishes exactly once.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer, type NatsServerHandle } from "../../src/cluster/nats-server.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { pidAlive } from "../helpers/eddy-process.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { assertExactlyOnce, keyedCounterJob } from "../helpers/keyed-counter.js";

const OUTAGE_MS = 5_000;
const work = mkdtempSync(join(tmpdir(), "eddy-nats-outage-"));
const storeDir = join(work, "jetstream");
let server: NatsServerHandle | undefined;
let cluster: ProcessCluster | undefined;
after(async () => {
  await cluster?.stop();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** CPU time (user + system) a process has used so far, ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted from the state field (3).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

test("SIGTERM of the NATS server leaves every Eddy process waiting, not dead or spinning; the job resumes and finishes exactly once", async () => {
  server = await startNatsServer({ port: 0, storeDir });
  const port = server.port;
  cluster = await startProcessCluster({ natsUrl: server.url, taskExecutors: 2, slots: 2 });
  const c = cluster;
  const events = 12_000;
  const keys = 5;
  const out = join(work, "out");
  const { jobId } = await c.dispatcher.ask<{ jobId: string }>("submitJob", await keyedCounterJob({ events, keys, rate: 2_000, intervalMs: 200, output: out }));
  await waitForJob(c.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed >= 1, 60_000, "running and checkpointed");

  const procs = [...c.jobManagers, ...c.taskExecutors];
  await server.stop();
  const before = procs.map((p) => cpuMs(p.pid));
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  const used = procs.map((p, i) => cpuMs(p.pid) - before[i]!);
  for (const p of procs) assert.ok(pidAlive(p.pid), `process ${p.pid} (${p.args.join(" ")}) still runs without its NATS server`);
  // Waiting means reconnect attempts every 250 ms and idle timers: a small fraction of a core. A
  // process in a retry loop without pause would use the whole outage.
  console.log(`CPU used by each process during the ${OUTAGE_MS} ms outage: ${used.map((ms) => `${ms} ms`).join(", ")}`);
  for (const [i, ms] of used.entries()) assert.ok(ms < OUTAGE_MS / 4, `process ${procs[i]!.pid} used ${ms} ms of CPU in an outage of ${OUTAGE_MS} ms`);

  server = await startNatsServer({ port, storeDir });
  const result = await awaitJobResult(c.dispatcher, jobId, 120_000, { acrossFailover: true });
  assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
  assertExactlyOnce(out, events, keys);
});
