/**
 * Checkpoint figures for `npm run bench`:
 *  - checkpoint duration for a keyed state of a given size — the synchronous (copy-on-write) snapshot
 *    plus the upload the serialization streams into, as a task does it — against a bare Object Store
 *    `putBlob` of the same bytes in the same run (target: within 1.5x); also the synchronous part alone
 *    (the pause of processing) and the old way (serialize everything, then upload) for comparison;
 *  - keyed-counter throughput with a checkpoint every second against none (target: under 10% lower).
 */
import { performance } from "node:perf_hooks";
import { join } from "node:path";
import { Objm } from "@nats-io/obj";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { CheckpointStorage, checkpointObjectName, checkpointPrefix } from "../../src/checkpoint/index.js";
import { loadJob } from "../../src/sdk/load-job.js";
import { packageRoot } from "../../src/cluster/paths.js";
import type { Gateway } from "../../src/rpc/gateway.js";
import { makeKeyedState } from "./state-bench.js";
import { awaitJobResult } from "../helpers/jobs.js";

/** Figures of {@link benchCheckpointDuration}: medians in ms. */
export interface CheckpointDurationBench {
  /** Synchronous copy-on-write snapshot + streamed serialization and upload (what a task does). */
  checkpointMs: number;
  /** The synchronous part alone (processing pauses this long). */
  syncMs: number;
  /** Serializing the whole snapshot first, then uploading it (the pre-streaming way). */
  serialThenUploadMs: number;
  /** A bare Object Store putBlob of the same bytes. */
  bareMs: number;
  snapshotBytes: number;
  runs: number;
}

/** Medians over `runs` (after a warm-up): checkpoint of a keyed state of about `bytes`, against a bare putBlob of the same bytes. */
export async function benchCheckpointDuration(natsUrl: string, prefix: string, bytes: number, runs = 5): Promise<CheckpointDurationBench> {
  const nc = await connectNats(natsUrl, "bench-checkpoint");
  try {
    const storage = await CheckpointStorage.open(nc, new Subjects(prefix));
    const bare = await new Objm(nc).create(`${prefix}_bare`);
    const backend = makeKeyedState(bytes);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const cp: number[] = [];
    const sync: number[] = [];
    const serial: number[] = [];
    const raw: number[] = [];
    let snapshotBytes = 0;
    for (let i = 0; i <= runs; i++) {
      // Alternating, so drift on the shared machine hits all three alike.
      let t = performance.now();
      const source = backend.snapshotAsync();
      const s = performance.now() - t;
      const h = await storage.writeStream(checkpointObjectName("bench", i, "op", 0, "keyed"), source);
      const c = performance.now() - t;
      t = performance.now();
      const snap = backend.snapshot();
      await storage.write(checkpointObjectName("bench", i, "op", 0, "keyed-serial"), snap);
      const o = performance.now() - t;
      snapshotBytes = snap.length;
      if (h.bytes !== snap.length) throw new Error(`streamed ${h.bytes} bytes, the snapshot has ${snap.length}`);
      t = performance.now();
      await bare.putBlob({ name: `bare-${i}` }, snap);
      const b = performance.now() - t;
      if (i > 0) {
        cp.push(c);
        sync.push(s);
        serial.push(o);
        raw.push(b);
      }
      await storage.deletePrefix(checkpointPrefix("bench", i));
      await bare.delete(`bare-${i}`);
    }
    await bare.destroy();
    return { checkpointMs: median(cp), syncMs: median(sync), serialThenUploadMs: median(serial), bareMs: median(raw), snapshotBytes, runs };
  } finally {
    await nc.close();
  }
}

/** keyed-counter (unthrottled) events per second of net runtime, with a checkpoint interval or none. */
export async function benchKeyedCounter(dispatcher: Gateway, outDir: string, events: number, intervalMs: number | undefined): Promise<number> {
  const spec = await loadJob(
    join(packageRoot(), "examples/keyed-counter.ts"),
    ["--events", String(events), "--keys", "1000", "--checkpoint-interval", String(intervalMs ?? 1000), "--output", outDir],
    { parallelism: 2 },
  );
  if (intervalMs === undefined) delete spec.config!.checkpointing;
  const { jobId } = await dispatcher.ask<{ jobId: string }>("submitJob", spec);
  const r = await awaitJobResult(dispatcher, jobId, 600_000);
  if (r.state !== "FINISHED") throw new Error(`keyed-counter ended ${r.state}: ${JSON.stringify(r.failure)}`);
  return events / (r.netRuntimeMs / 1000);
}
