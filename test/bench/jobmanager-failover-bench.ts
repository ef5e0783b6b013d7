/**
 * JobManager failover benchmark: SIGKILL of the leading JobManager during keyed-counter, to the job
 * RUNNING again under the standby (its new JobMaster published and every subtask RUNNING). Target:
 * the lease duration plus at most 2 s (Flink's ZooKeeper session timeout is 60 s, its Kubernetes
 * lease 15 s). Run alone: `node dist/test/bench/jobmanager-failover-bench.js [leaseMs] [rounds]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Kvm } from "@nats-io/kv";
import { decode } from "../../src/codec/codec.js";
import { waitFor } from "../../src/core/time.js";
import { Subjects } from "../../src/rpc/subjects.js";
import type { LeaderInfo } from "../../src/ha/leader-retrieval.js";
import { startProcessCluster } from "../helpers/process-cluster.js";
import { allRunning, waitForJob } from "../helpers/jobs.js";
import { keyedCounterJob } from "../helpers/keyed-counter.js";

/** One figure per round: ms from the SIGKILL to RUNNING under the new leader. */
export async function jobManagerFailoverBench(leaseMs = 3_000, rounds = 3): Promise<number[]> {
  const work = mkdtempSync(join(tmpdir(), "eddy-bench-ha-"));
  const cluster = await startProcessCluster({ taskExecutors: 2, slots: 2, jobManagers: 2, env: { EDDY_LEASE_MS: String(leaseMs) } });
  const times: number[] = [];
  try {
    const kv = await new Kvm(cluster.nc).open(new Subjects(cluster.prefix).bucket("leaders"));
    const jmSession = async (jobId: string) => {
      const e = await kv.get(`jobmaster.${jobId}`);
      return e && e.operation === "PUT" && e.value.length ? (decode(e.value) as LeaderInfo) : undefined;
    };
    const spec = await keyedCounterJob({ events: 1_000_000, keys: 10, rate: 2_000, intervalMs: 500, output: join(work, "out") });
    const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
    for (let round = 0; round < rounds; round++) {
      await waitForJob(cluster.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed >= 1, 60_000, "running and checkpointed");
      const before = (await jmSession(jobId))!;
      const leader = cluster.jobManagers.find((p) => p.pid === before.pid && !p.exit);
      if (!leader) throw new Error("the leading JobManager is not one of ours");
      const t0 = Date.now();
      leader.kill();
      await waitFor(async () => ((await jmSession(jobId))?.sessionId !== before.sessionId ? true : undefined), 60_000, "a new JobMaster", 20);
      await waitForJob(cluster.dispatcher, jobId, allRunning, 60_000, "RUNNING under the new leader");
      times.push(Date.now() - t0);
      cluster.addJobManager(); // the next standby
    }
    await cluster.dispatcher.ask("cancelJob", { jobId }).catch(() => undefined);
  } finally {
    await cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(
    `JobManager failover, SIGKILL of the leader to RUNNING under the standby (lease ${leaseMs} ms, n=${times.length}): median ${median} ms, max ${sorted[sorted.length - 1]} ms; ` +
      `beyond the lease: median ${median - leaseMs} ms, max ${sorted[sorted.length - 1]! - leaseMs} ms (target <= 2000 ms; Flink: ZooKeeper session 60 s, Kubernetes lease 15 s) [${times.join(", ")}]`,
  );
  return times;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  jobManagerFailoverBench(Number(process.argv[2] ?? 3_000), Number(process.argv[3] ?? 3)).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
