/**
 * NATS server loss benchmark, on a three-server NATS cluster running keyed-counter (checkpoint interval
 * 500 ms): each round SIGKILLs the server leading the lease bucket's stream (the worst case: the lease,
 * and often the state store, must elect a new stream leader) and measures, from the kill:
 *  - the replicated KV bucket's unavailability: until a put to the leases bucket succeeds again;
 *  - the job's recovery: until a checkpoint completes again with every subtask RUNNING (the baseline
 *    is the interval between checkpoints measured just before the kill);
 *  - what it cost: a new JobMaster session (the JobManager stepped down and was re-elected), and how
 *    many subtasks restarted.
 * The server is started again before the next round. Run alone:
 * `node dist/test/bench/nats-server-loss-bench.js [rounds]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { waitFor } from "../../src/core/time.js";
import { decode } from "../../src/codec/codec.js";
import { retryTransient } from "../../src/jetstream/index.js";
import type { LeaderInfo } from "../../src/ha/leader-retrieval.js";
import { Subjects } from "../../src/rpc/subjects.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";
import { startTestNatsCluster } from "../helpers/nats-cluster.js";
import { startProcessCluster } from "../helpers/process-cluster.js";
import { allRunning, waitForJob } from "../helpers/jobs.js";
import { keyedCounterJob } from "../helpers/keyed-counter.js";

/** One round's figures, ms from the SIGKILL. */
export interface ServerLossRound {
  kvUnavailableMs: number;
  checkpointAgainMs: number;
  /** Median ms between completed checkpoints before the kill. */
  checkpointEveryMs: number;
  leaderChanged: boolean;
  restartedSubtasks: number;
}

export async function natsServerLossBench(rounds = 3): Promise<ServerLossRound[]> {
  const work = mkdtempSync(join(tmpdir(), "eddy-bench-nats-loss-"));
  const nats = await startTestNatsCluster(3);
  const cluster = await startProcessCluster({ natsUrl: nats.url, taskExecutors: 2, slots: 2, logLevel: process.env.EDDY_BENCH_LOG_LEVEL ?? "warn" });
  const out: ServerLossRound[] = [];
  try {
    const subjects = new Subjects(cluster.prefix);
    const jsm = await jetstreamManager(cluster.nc);
    const kvm = new Kvm(cluster.nc);
    // The probe's puts give up after 250 ms each, so its figure is not rounded up to a 5 s default timeout.
    const leases = await new Kvm(jetstream(cluster.nc, { timeout: 250 })).open(subjects.bucket("leases"));
    const leaders = await kvm.open(subjects.bucket("leaders"));
    // Read again until the bucket answers (it may be electing a leader itself).
    const jmSession = async (id: string) => {
      const e = await retryTransient(() => leaders.get(`jobmaster.${id}`), 60_000, { jetStreamKnown: true });
      return e && e.operation === "PUT" && e.value.length ? (decode(e.value) as LeaderInfo) : undefined;
    };
    const spec = await keyedCounterJob({ events: 10_000_000, keys: 10, rate: 2_000, intervalMs: 500, output: join(work, "out") });
    const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
    const details = () => cluster.dispatcher.ask<JobDetails>("requestJob", { jobId }, { timeoutMs: 2_000 });
    for (let round = 0; round < rounds; round++) {
      await waitForJob(cluster.dispatcher, jobId, (d) => allRunning(d) && d.checkpoints.completed >= 1, 120_000, "running and checkpointed");
      // The checkpoint cadence right before the kill (the baseline).
      const marks: number[] = [];
      let seen = (await details()).checkpoints.completed;
      while (marks.length < 4) {
        const d = await waitForJob(cluster.dispatcher, jobId, (x) => x.checkpoints.completed > seen, 30_000, "the next checkpoint");
        seen = d.checkpoints.completed;
        marks.push(Date.now());
      }
      const gaps = marks
        .slice(1)
        .map((t, i) => t - marks[i]!)
        .sort((a, b) => a - b);
      const before = await details();
      const sessionBefore = await jmSession(jobId);
      const leaseLeader = (await jsm.streams.info(`KV_${subjects.bucket("leases")}`)).cluster?.leader;
      const victim = Math.max(0, ["n1", "n2", "n3"].indexOf(leaseLeader ?? "n1"));
      const t0 = Date.now();
      await nats.kill(victim);
      const kvAgain = waitFor(
        () =>
          leases.put("bench.probe", new Uint8Array(1)).then(
            () => Date.now() - t0,
            () => undefined,
          ),
        120_000,
        "a KV put",
        50,
      );
      // Checkpoint ids continue across JobMasters (the KV counter): a newer id means a checkpoint after the kill.
      const latestBefore = before.checkpoints.latest?.id ?? 0;
      const again = await waitForJob(
        cluster.dispatcher,
        jobId,
        (d) => allRunning(d) && (d.checkpoints.latest?.id ?? 0) > latestBefore,
        180_000,
        "a checkpoint after the kill",
      );
      const checkpointAgainMs = Date.now() - t0;
      const kvUnavailableMs = await kvAgain;
      out.push({
        kvUnavailableMs,
        checkpointAgainMs,
        checkpointEveryMs: gaps[Math.floor(gaps.length / 2)]!,
        leaderChanged: (await jmSession(jobId))?.sessionId !== sessionBefore?.sessionId,
        restartedSubtasks: again.vertices.flatMap((v) => v.subtasks).filter((x) => (x.timestamps.RUNNING ?? 0) > t0).length,
      });
      await nats.restart(victim);
    }
    await cluster.dispatcher.ask("cancelJob", { jobId }).catch(() => undefined);
  } finally {
    await cluster.stop();
    await nats.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const kv = out.map((r) => r.kvUnavailableMs);
  const cp = out.map((r) => r.checkpointAgainMs);
  console.log(
    `NATS server loss (3-server cluster, the lease stream's leader SIGKILLed, n=${out.length}): replicated KV unavailable median ${med(kv)} ms [${kv.join(", ")}]; ` +
      `a checkpoint completes again after median ${med(cp)} ms [${cp.join(", ")}] against one every ${med(out.map((r) => r.checkpointEveryMs))} ms before (ratio ${(med(cp) / med(out.map((r) => r.checkpointEveryMs))).toFixed(1)}); ` +
      `a new JobMaster session (leadership lost and regained) in ${out.filter((r) => r.leaderChanged).length} of ${out.length} rounds; subtasks restarted per round [${out.map((r) => r.restartedSubtasks).join(", ")}] of 4`,
  );
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  natsServerLossBench(Number(process.argv[2] ?? 3)).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
