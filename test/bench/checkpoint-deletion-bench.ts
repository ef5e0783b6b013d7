/**
 * What a completed checkpoint costs in the HA stores beyond its state upload, and what removing a
 * finished job costs: the time from `CompletedCheckpointStore.add` until the subsumed checkpoint is
 * discarded (retain 1), the JetStream API requests and the messages published meanwhile, by kind
 * (counted by subscribing to the bench's own buckets' subjects), and the time of a globally terminal
 * shutdown. Run by `npm run bench -- checkpoint`; directly (`node
 * dist/test/bench/checkpoint-deletion-bench.js`) it starts a private nats-server.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { silentLogger } from "../../src/core/logger.js";
import { CheckpointStorage, CompletedCheckpointStore, checkpointObjectName, type CompletedCheckpoint } from "../../src/checkpoint/index.js";

/** Result of {@link benchCheckpointDeletion}. */
export interface CheckpointDeletionBench {
  checkpoints: number;
  objectsPerCheckpoint: number;
  /** Median ms from `add` to the end of the subsumed checkpoint's discard. */
  addAndDiscardMs: number;
  /** Per checkpoint (mean): requests by JetStream API kind (`STREAM.MSG.DELETE`, ...) and publishes by kind (`KV`, `OBJ`). */
  perCheckpoint: Record<string, number>;
  /** A globally terminal shutdown of a job with one checkpoint: ms and requests by kind. */
  shutdownMs: number;
  shutdown: Record<string, number>;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Counts the traffic on `prefix`'s buckets: API requests by kind, publishes by store. */
function countTraffic(nc: NatsConnection, prefix: string): { take(): Record<string, number>; stop(): void } {
  let counts: Record<string, number> = {};
  const add = (k: string) => void (counts[k] = (counts[k] ?? 0) + 1);
  const api = nc.subscribe("$JS.API.>", {
    callback: (_e, m) => {
      if (!m.subject.includes(prefix)) return;
      // `$JS.API.STREAM.MSG.DELETE.<stream>` -> `STREAM.MSG.DELETE`; consumer calls by their verb.
      const parts = m.subject.split(".").slice(2);
      const at = parts.findIndex((p) => p.includes(prefix));
      add(parts.slice(0, at < 0 ? parts.length : at).join("."));
    },
  });
  const kv = nc.subscribe(`$KV.${prefix}_checkpoints.>`, { callback: () => add("publish KV") });
  const obj = nc.subscribe(`$O.${prefix}_state.>`, { callback: () => add("publish OBJ") });
  return {
    take: () => {
      const out = counts;
      counts = {};
      return out;
    },
    stop: () => {
      for (const s of [api, kv, obj]) s.unsubscribe();
    },
  };
}

async function checkpoint(storage: CheckpointStorage, jobId: string, id: number, objects: number, bytes: number): Promise<CompletedCheckpoint> {
  const subtasks = [];
  let total = 0;
  for (let s = 0; s < objects; s++) {
    const h = await storage.write(checkpointObjectName(jobId, id, "op", s, "keyed"), new Uint8Array(bytes).fill(id));
    total += h.bytes;
    subtasks.push({ operators: { op: { keyed: { ...h, keyGroupRange: { start: s, end: s }, maxParallelism: 128 } } } });
  }
  return {
    jobId,
    checkpointId: id,
    kind: "CHECKPOINT",
    timestamp: id,
    completedAt: id,
    formatVersion: 1,
    vertices: { op: { parallelism: objects, maxParallelism: 128, subtasks } },
    bytes: total,
  };
}

/** Runs `checkpoints` checkpoints of `objects` objects of `bytes` bytes with retain 1, then removes the job. */
export async function benchCheckpointDeletion(
  natsUrl: string,
  opts: { checkpoints?: number; objects?: number; bytes?: number } = {},
): Promise<CheckpointDeletionBench> {
  const n = opts.checkpoints ?? 20;
  const objects = opts.objects ?? 8;
  const bytes = opts.bytes ?? 10_000;
  const prefix = `bench${randomBytes(3).toString("hex")}`;
  const subjects = new Subjects(prefix);
  const nc = await connectNats(natsUrl, "checkpoint-deletion-bench");
  const monitor = await connectNats(natsUrl, "checkpoint-deletion-bench-monitor");
  try {
    const storage = await CheckpointStorage.open(nc, subjects);
    const store = await CompletedCheckpointStore.open(nc, subjects, "delbench", { retain: 1, storage, logger: silentLogger() });
    const traffic = countTraffic(monitor, prefix);
    await monitor.flush();
    const times: number[] = [];
    const sums: Record<string, number> = {};
    for (let id = 1; id <= n + 1; id++) {
      const cp = await checkpoint(storage, "delbench", id, objects, bytes);
      await nc.flush();
      await monitor.flush();
      traffic.take();
      const t = performance.now();
      await store.add(cp, storage);
      await store.awaitDiscards();
      const ms = performance.now() - t;
      await nc.flush();
      await monitor.flush();
      const counts = traffic.take();
      if (id === 1) continue; // nothing subsumed yet
      times.push(ms);
      for (const [k, v] of Object.entries(counts)) sums[k] = (sums[k] ?? 0) + v;
    }
    const t = performance.now();
    await store.shutdown(true, storage);
    const shutdownMs = performance.now() - t;
    await nc.flush();
    await monitor.flush();
    const shutdown = traffic.take();
    traffic.stop();
    const perCheckpoint = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n]));
    return { checkpoints: n, objectsPerCheckpoint: objects, addAndDiscardMs: median(times), perCheckpoint, shutdownMs, shutdown };
  } finally {
    await monitor.close();
    await nc.close();
  }
}

/** One line per figure. */
export function formatCheckpointDeletion(r: CheckpointDeletionBench): string[] {
  const kinds = (c: Record<string, number>) =>
    Object.entries(c)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(1)}`)
      .join(", ");
  return [
    `  add + discard of the subsumed checkpoint (${r.objectsPerCheckpoint} objects each, retain 1): median ${r.addAndDiscardMs.toFixed(1)} ms over ${r.checkpoints}; per checkpoint: ${kinds(r.perCheckpoint)}`,
    `  removing a finished job (1 checkpoint, ${r.objectsPerCheckpoint} objects): ${r.shutdownMs.toFixed(0)} ms; ${kinds(r.shutdown)}`,
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startTestNats } = await import("../helpers/nats-server.js");
  const nats = await startTestNats({ jetstream: true });
  try {
    for (const line of formatCheckpointDeletion(await benchCheckpointDeletion(nats.url))) console.log(line);
  } finally {
    await nats.stop();
  }
}
