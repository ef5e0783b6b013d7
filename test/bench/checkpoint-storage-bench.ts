/**
 * Checkpoint write benchmark: {@link CheckpointStorage.write} against a bare Object Store `putBlob`
 * of the same bytes (and {@link benchStateRead}: a restore's read against nats.js's `getBlob`) (library defaults: 128 KiB chunks), on the same server in the same run, for the
 * target "checkpoint duration within 1.5x of a bare Object Store write". `benchCheckpointWrite` is
 * meant to be called by the project benchmark; run directly
 * (`node dist/test/bench/checkpoint-storage-bench.js [bytes...]`) it starts a private nats-server and
 * prints the figures for 1 MB and 100 MB. Not wired into any npm script.
 */
import { randomFillSync, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Objm, setSha256Backend, StorageType } from "@nats-io/obj";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { CheckpointStorage, checkpointObjectName } from "../../src/checkpoint/index.js";

/** Result of {@link benchCheckpointWrite}: medians in ms. */
export interface CheckpointWriteBench {
  /** `CheckpointStorage.write` (1 MiB chunks clamped to max_payload). */
  storageMs: number;
  /** Bare `ObjectStore.putBlob` with the library's default 128 KiB chunks (SHA-256 by node:crypto, as Eddy sets it). */
  bareMs: number;
  /** The same bare put with every library default, the pure-JS SHA-256 included. */
  bareDefaultMs: number;
  /** storageMs / bareMs. */
  ratio: number;
  bytes: number;
  /** Measured runs of each (after one warm-up of each). */
  reps: number;
  chunkBytes: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * Times `CheckpointStorage.write` and a bare Object Store `putBlob` of `bytes` random bytes,
 * alternating (so drift hits both alike), and answers the medians. Uses its own buckets under a
 * random prefix and deletes them at the end. `CheckpointStorage.open` selects node:crypto for the
 * Object Store's SHA-256 process-wide, so `bareMs` hashes natively too; `bareDefaultMs` switches to
 * the library's pure-JS default for its runs only.
 */
export async function benchCheckpointWrite(natsUrl: string, bytes: number, opts: { reps?: number } = {}): Promise<CheckpointWriteBench> {
  const reps = opts.reps ?? (bytes >= 50_000_000 ? 5 : 15);
  const prefix = `bench${randomBytes(3).toString("hex")}`;
  const nc = await connectNats(natsUrl, "checkpoint-storage-bench");
  const data = new Uint8Array(bytes);
  for (let off = 0; off < bytes; off += 65536) randomFillSync(data, off, Math.min(65536, bytes - off));
  const objm = new Objm(nc);
  try {
    const storage = await CheckpointStorage.open(nc, new Subjects(prefix));
    const bare = await objm.create(`${prefix}_bare`, { storage: StorageType.File, replicas: 1 });
    const storageMs: number[] = [];
    const bareMs: number[] = [];
    const bareDefaultMs: number[] = [];
    for (let i = 0; i <= reps; i++) {
      const name = checkpointObjectName("bench", i + 1, "op", 0, "keyed");
      let t = performance.now();
      const h = await storage.write(name, data);
      const s = performance.now() - t;
      t = performance.now();
      await bare.putBlob({ name }, data);
      const b = performance.now() - t;
      await bare.delete(name);
      setSha256Backend("js");
      t = performance.now();
      await bare.putBlob({ name }, data);
      const d = performance.now() - t;
      setSha256Backend("native");
      if (i > 0) {
        storageMs.push(s);
        bareMs.push(b);
        bareDefaultMs.push(d);
      }
      // Keep the streams small so every run writes into the same conditions.
      await storage.delete(h);
      await bare.delete(name);
    }
    await bare.destroy();
    await (await objm.open(storage.bucket)).destroy();
    const sm = median(storageMs);
    const bm = median(bareMs);
    return { storageMs: sm, bareMs: bm, bareDefaultMs: median(bareDefaultMs), ratio: sm / bm, bytes, reps, chunkBytes: storage.effectiveChunkBytes };
  } finally {
    await nc.close();
  }
}

/** Result of {@link benchStateRead}: medians in ms. */
export interface StateReadBench {
  /** `CheckpointStorage.read` (a restore's read: pull consumer, size and SHA-256 checked). */
  readMs: number;
  /** nats.js `ObjectStore.getBlob` of the same bytes (its push consumer; SHA-256 checked). */
  bareMs: number;
  bytes: number;
  reps: number;
}

/**
 * Times a restore's read of `bytes` random bytes, {@link CheckpointStorage.read}, against nats.js's own
 * `getBlob` of the same object, alternating, and answers the medians (after one warm-up of each).
 */
export async function benchStateRead(natsUrl: string, bytes: number, opts: { reps?: number } = {}): Promise<StateReadBench> {
  const reps = opts.reps ?? (bytes >= 50_000_000 ? 5 : 15);
  const prefix = `bench${randomBytes(3).toString("hex")}`;
  const nc = await connectNats(natsUrl, "state-read-bench");
  const data = new Uint8Array(bytes);
  for (let off = 0; off < bytes; off += 65536) randomFillSync(data, off, Math.min(65536, bytes - off));
  try {
    const storage = await CheckpointStorage.open(nc, new Subjects(prefix));
    const os = await new Objm(nc).open(storage.bucket);
    const name = checkpointObjectName("bench", 1, "op", 0, "keyed");
    const h = await storage.write(name, data);
    const readMs: number[] = [];
    const bareMs: number[] = [];
    for (let i = 0; i <= reps; i++) {
      let t = performance.now();
      const a = await storage.read(h);
      const r = performance.now() - t;
      t = performance.now();
      const b = await os.getBlob(name);
      const g = performance.now() - t;
      if (a.length !== bytes || b?.length !== bytes) throw new Error("a read came back short");
      if (i > 0) {
        readMs.push(r);
        bareMs.push(g);
      }
    }
    await os.destroy();
    return { readMs: median(readMs), bareMs: median(bareMs), bytes, reps };
  } finally {
    await nc.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { startTestNats } = await import("../helpers/nats-server.js");
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n >= 0);
  const nats = await startTestNats({ jetstream: true });
  try {
    for (const bytes of sizes.length ? sizes : [1_000_000, 100_000_000]) {
      const r = await benchCheckpointWrite(nats.url, bytes);
      console.log(
        `checkpoint write ${(bytes / 1e6).toFixed(0).padStart(4)} MB: CheckpointStorage.write ${r.storageMs.toFixed(1)} ms, bare putBlob ${r.bareMs.toFixed(1)} ms (all library defaults ${r.bareDefaultMs.toFixed(1)} ms), ratio ${r.ratio.toFixed(2)} (median of ${r.reps}, chunk ${r.chunkBytes >> 10} KiB)`,
      );
    }
  } finally {
    await nats.stop();
  }
}
