/**
 * Eddy on a three-server NATS cluster: buckets and streams are created with three replicas, and a
 * job rides out the loss (SIGKILL) and return of one NATS server with its output exactly once.
 */
import { test, after, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { Subjects } from "../../src/rpc/subjects.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";
import { waitFor } from "../../src/core/time.js";
import { startTestNatsCluster, type TestNatsCluster } from "../helpers/nats-cluster.js";
import { diagnose, reportNodeOptions } from "../helpers/process-diagnostics.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { allRunning, awaitJobResult, waitForJob } from "../helpers/jobs.js";
import { assertExactlyOnce, committedLines, keyedCounterJob } from "../helpers/keyed-counter.js";

const work = mkdtempSync(join(tmpdir(), "eddy-nats-cluster-"));
let nats: TestNatsCluster | undefined;
let cluster: ProcessCluster | undefined;
after(async () => {
  await cluster?.stop();
  await nats?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Thrown when the job did not end in time (a liveness stall, as opposed to wrong output). */
class Stalled extends Error {}

/** One run of the scenario on a fresh NATS cluster and Eddy cluster. */
async function scenario(t: TestContext): Promise<void> {
  nats = await startTestNatsCluster(3);
  // Reports (SIGUSR2) tell what a stalled process was doing.
  const env = { NODE_OPTIONS: reportNodeOptions(work) };
  cluster = await startProcessCluster({ natsUrl: nats.url, taskExecutors: 2, slots: 2, logLevel: "info", env });
  const c = cluster;
  try {
    const subjects = new Subjects(c.prefix);
    const events = 12_000;
    const keys = 5;
    const out = join(work, "out");
    // Flink's checkpoint timeout (10 min): a checkpoint trigger, acknowledgement, buffer or credit lost
    // with the killed server must be handled on the reconnect (JobMaster and tasks), not by the timeout.
    const { jobId } = await c.dispatcher.ask<{ jobId: string }>(
      "submitJob",
      await keyedCounterJob({ events, keys, rate: 2_500, intervalMs: 200, output: out }),
    );
    await waitForJob(c.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed >= 2, 60_000, "running with two checkpoints");

    const jsm = await jetstreamManager(c.nc);
    for (const b of ["jobgraphs", "jobresults", "leaders", "leases", "checkpoints"] as const) {
      const si = await jsm.streams.info(`KV_${subjects.bucket(b)}`);
      assert.equal(si.config.num_replicas, 3, `KV bucket ${b} has three replicas`);
    }
    assert.equal((await jsm.streams.info(`OBJ_${subjects.bucket("state")}`)).config.num_replicas, 3, "the state Object Store has three replicas");

    await waitFor(async () => committedLines(out).length > 0 || undefined, 20_000, "committed output before the NATS server dies");
    // The server that leads the lease bucket's stream dies: the lease must be renewed through a new stream leader.
    const leaseLeader = (await jsm.streams.info(`KV_${subjects.bucket("leases")}`)).cluster?.leader;
    const victim = Math.max(0, ["n1", "n2", "n3"].indexOf(leaseLeader ?? "n1"));
    await nats.kill(victim);
    await new Promise((r) => setTimeout(r, 3_000));
    await nats.restart(victim);

    const result = await awaitJobResult(c.dispatcher, jobId, 90_000, { acrossFailover: true }).catch((err: Error) => {
      throw new Stalled(err.message);
    });
    assert.equal(result.state, "FINISHED", JSON.stringify(result.failure));
    // Exactly once is never retried: wrong output fails the test at once.
    assertExactlyOnce(out, events, keys);
  } catch (err) {
    if (err instanceof Stalled) {
      // What the processes said and are doing, and how far the job's checkpoints got, is the diagnosis
      // of a stall: printed with the test's output.
      const procs = [...c.jobManagers, ...c.taskExecutors];
      for (const p of procs) t.diagnostic(`--- eddy ${p.args.join(" ")} (pid ${p.pid}), last lines:\n${p.stderr.split("\n").slice(-40).join("\n")}`);
      t.diagnostic(`--- what they are doing:\n${await diagnose(procs, work)}`);
      const jobs = await c.dispatcher.ask<Array<{ id: string }>>("listJobs", {}, { timeoutMs: 5_000 }).catch(() => []);
      for (const j of jobs) {
        const d = await c.dispatcher.ask<JobDetails>("requestJob", { jobId: j.id }, { timeoutMs: 5_000 }).catch((e: Error) => e.message);
        t.diagnostic(
          `--- job ${j.id}: ${typeof d === "string" ? d : JSON.stringify({ state: d.state, checkpoints: d.checkpoints, subtasks: d.vertices.map((v) => v.subtasks.map((x) => x.state)) })}`,
        );
      }
    }
    throw err;
  } finally {
    await c.stop();
    await nats.stop();
    cluster = undefined;
    nats = undefined;
  }
}

test("on a three-server NATS cluster the HA buckets have three replicas and keyed-counter rides out a NATS server's SIGKILL and return, exactly once", async (t) => {
  // No second chance: a stall (the job not ending in 90 s) fails the test, with the diagnosis printed.
  await scenario(t);
});
