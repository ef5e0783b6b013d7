/**
 * The soak's end checks, each returning violations as sentences: every job FINISHED with each event
 * committed exactly once (per-key counts 1..n); nothing of a finished job left in KV, streams or the
 * state Object Store; every slot free again and no thread left behind; RSS of the processes that
 * lived through the run flat after warm-up.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { CheckpointStorage, jobPrefix } from "../../src/checkpoint/index.js";
import { listKeys } from "../../src/ha/kv.js";
import type { ClusterInfo } from "../../schemas/dispatcher-api.js";
import type { SoakCluster } from "./cluster.js";
import { exactlyOnceViolations, type SoakJob } from "./jobs.js";
import type { JobWatch } from "./monitor.js";
import type { ResourceSampler } from "./resources.js";

/** Largest RSS growth of a long-lived process after warm-up. */
export const MAX_RSS_GROWTH = 0.1;

/** Each job ended FINISHED and its committed output holds every event exactly once. */
export async function outputViolations(jobs: Array<{ job: SoakJob; watch: JobWatch }>): Promise<string[]> {
  const out: string[] = [];
  for (const { job, watch } of jobs) {
    const state = watch.last?.state ?? "unknown";
    if (state !== "FINISHED")
      out.push(`${job.name} (${watch.jobId}) ended ${state}${watch.last?.failure ? `: ${watch.last.failure.code} ${watch.last.failure.message}` : ""}`);
    const lines = await job.output().catch((err: Error) => {
      out.push(`${job.name}: its output could not be read (${err.message})`);
      return undefined;
    });
    if (lines) out.push(...exactlyOnceViolations(job.name, lines, job.size));
  }
  return out;
}

/** What finished jobs left behind: KV keys naming them, streams named after them, state objects. */
export async function storageLeaks(cluster: SoakCluster, jobIds: string[]): Promise<string[]> {
  const out: string[] = [];
  const kvm = new Kvm(cluster.nc);
  // jobresults keeps each result on purpose (requestJobResult answers from it).
  for (const b of ["jobgraphs", "checkpoints", "leaders", "leases"] as const) {
    const name = cluster.subjects.bucket(b);
    const kv = await kvm.open(name).catch((err: Error) => {
      out.push(`cannot open ${name}: ${err.message}`);
      return undefined;
    });
    if (!kv) continue;
    const keys = await listKeys(kv);
    for (const id of jobIds) {
      const listed = keys.filter((k) => k.includes(id));
      // A listing is a consumer, which reads the stream replica it is placed on: after partitions a
      // replica of nats-server 2.9 was seen to stay behind and list keys deleted long before. A key is
      // left only if the stream leader still has it (Eddy's buckets answer gets from the leader).
      const left: string[] = [];
      for (const k of listed) {
        const e = await kv.get(k);
        if (e && e.operation === "PUT") left.push(k);
      }
      if (left.length) out.push(`KV ${name} still holds ${left.length} key(s) of finished job ${id}: ${left.slice(0, 5).join(", ")}`);
    }
  }
  const jsm = await jetstreamManager(cluster.nc);
  const streams: string[] = [];
  for await (const s of jsm.streams.names()) streams.push(s);
  for (const id of jobIds) {
    const left = streams.filter((s) => s.includes(id));
    if (left.length) out.push(`streams of finished job ${id} still exist: ${left.join(", ")}`);
  }
  const storage = await CheckpointStorage.open(cluster.nc, cluster.subjects);
  for (const id of jobIds) {
    const objects = await storage.list(jobPrefix(id));
    if (objects.length)
      out.push(
        `${objects.length} state object(s) of finished job ${id} left in ${storage.bucket}: ${objects
          .slice(0, 3)
          .map((o) => o.name)
          .join(", ")}`,
      );
  }
  return out;
}

/** Every registered TaskExecutor has all its slots free (no slot held by a task of a finished job). */
export async function slotLeaks(cluster: SoakCluster, slots: number): Promise<string[]> {
  const info = await cluster.dispatcher.ask<ClusterInfo>("clusterInfo", {}, { timeoutMs: 5_000 });
  return info.taskExecutors
    .filter((t) => t.freeSlots !== t.slots || t.slots !== slots)
    .map((t) => `TaskExecutor ${t.id} (pid ${t.pid}) has ${t.freeSlots} of ${t.slots} slots free after every job ended`);
}

/** Long-lived Eddy processes (sampled from `since` to `until`): RSS growth after warm-up, TaskExecutor threads left over. */
export function resourceViolations(sampler: ResourceSampler, since: number, warmupEnd: number, until: number): { violations: string[]; lines: string[] } {
  const violations: string[] = [];
  const lines: string[] = [];
  for (const [label, { samples }] of sampler.samples) {
    const first = samples[0];
    const last = samples[samples.length - 1];
    if (!first || !last || first.t > since + 5_000 || last.t < until - 5_000) continue; // not alive the whole run
    const warm = samples.filter((s) => s.t <= warmupEnd);
    const tail = samples.filter((s) => s.t >= until - 10_000);
    if (!warm.length || !tail.length) continue;
    const baseline = Math.max(...warm.map((s) => s.rssKb));
    const final = median(tail.map((s) => s.rssKb));
    const growth = final / baseline - 1;
    const threadsBase = Math.max(...warm.map((s) => s.threads));
    const threadsEnd = tail[tail.length - 1]!.threads;
    lines.push(`${label}: RSS ${mb(baseline)} after warm-up, ${mb(final)} at the end (${pct(growth)}); threads ${threadsBase} -> ${threadsEnd}`);
    // NATS servers grow with the data they store (the output stream keeps every event): shown, not judged.
    if (growth > MAX_RSS_GROWTH && !label.startsWith("nats-server"))
      violations.push(`${label}: RSS grew ${pct(growth)} after warm-up (${mb(baseline)} -> ${mb(final)}), over ${pct(MAX_RSS_GROWTH)}`);
    if (label.startsWith("taskexecutor") && threadsEnd > threadsBase)
      violations.push(`${label}: ${threadsEnd} threads at the end, ${threadsBase} after warm-up (threads left behind)`);
  }
  return { violations, lines };
}

/** The median of `xs` (not empty). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
