/**
 * Helpers of the barrier tests: scripted producers (records, barriers, cancel markers, pauses), a
 * consumer that logs every batch and checkpoint event, and the invariants of aligned checkpoints.
 * Loaded as a worker (workerData.barrierFixture) it runs one scripted producer in its own slot thread
 * against its own NetworkEnvironment (cross-thread link through the broker) and posts "done".
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import type { ResultPartitionDeploymentDescriptor, TaskLocation } from "../../src/deployment/descriptors.js";
import type { CheckpointableInput, CheckpointableOutput } from "../../src/runtime/api.js";
import { isBarrierEvent, isInputBatch, isWatermarkEvent } from "../../src/runtime/api.js";

/** One step of a producer: emit n records, a barrier, a cancel marker, or a pause. */
export type Step = number | { barrier: number; kind?: "CHECKPOINT" | "SAVEPOINT" } | { cancel: number } | { sleep: number };

/** What the consumer saw, in order. Records are [producer, n]. */
export type LogEntry = { p: number; n: number } | { barrier: number; kind: string } | { abort: number; reason: string };

/** Runs a producer's script on `out`, honoring backpressure, then finishes. */
export async function runScript(out: CheckpointableOutput, p: number, steps: Step[]): Promise<void> {
  let n = 0;
  for (const s of steps) {
    if (typeof s === "number") {
      for (let i = 0; i < s; i++) {
        out.emit([p, n++]);
        if (!out.isAvailable()) await out.available();
      }
    } else if ("barrier" in s) {
      out.broadcastBarrier({ checkpointId: s.barrier, timestamp: Date.now(), kind: s.kind ?? "CHECKPOINT" });
    } else if ("cancel" in s) {
      out.broadcastCancelMarker(s.cancel);
    } else {
      out.flush();
      await new Promise((r) => setTimeout(r, s.sleep));
    }
  }
  await out.finish();
}

/** Records of a script before its barrier `id` (undefined when it has none), and in total. */
export function recordsBefore(steps: Step[], id: number): number | undefined {
  let n = 0;
  for (const s of steps) {
    if (typeof s === "number") n += s;
    else if ("barrier" in s && s.barrier === id) return n;
  }
  return undefined;
}

/** Total records of a script. */
export function totalRecords(steps: Step[]): number {
  return steps.reduce<number>((a, s) => a + (typeof s === "number" ? s : 0), 0);
}

/** Reads everything with `nextEvent()`, logging records and events; `onEvent` runs at each checkpoint event. */
export async function collect(
  input: CheckpointableInput,
  opts: { recycleDelayMs?: number; onEvent?: (e: LogEntry, log: LogEntry[]) => void | Promise<void>; onBatch?: (log: LogEntry[]) => void } = {},
): Promise<LogEntry[]> {
  const log: LogEntry[] = [];
  for (;;) {
    const e = await input.nextEvent();
    if (e === null) return log;
    if (isInputBatch(e)) {
      for (const r of e.records) {
        const [p, n] = r as [number, number];
        log.push({ p, n });
      }
      opts.onBatch?.(log);
      if (opts.recycleDelayMs) await new Promise((r) => setTimeout(r, opts.recycleDelayMs));
      input.recycle(e);
      continue;
    }
    if (isWatermarkEvent(e)) continue;
    const entry: LogEntry = isBarrierEvent(e) ? { barrier: e.barrier.checkpointId, kind: e.barrier.kind } : { abort: e.abort, reason: e.reason };
    log.push(entry);
    await opts.onEvent?.(entry, log);
  }
}

/** The checkpoint events of a log, as "B<id>" / "A<id>:<reason>". */
export function eventsOf(log: LogEntry[]): string[] {
  return log.flatMap((e) => ("barrier" in e ? [`B${e.barrier}`] : "abort" in e ? [`A${e.abort}:${e.reason}`] : []));
}

/**
 * Checks the invariants; returns a message or null:
 * - every producer's records arrive exactly once and in order;
 * - at the event (barrier or abort) of checkpoint id, a producer whose script has barrier id has
 *   delivered none of its records after that barrier; at a barrier event, all of those before it.
 */
export function checkLog(log: LogEntry[], scripts: Step[][]): string | null {
  const pos: number[][] = scripts.map(() => []);
  for (let i = 0; i < log.length; i++) {
    const e = log[i]!;
    if (!("p" in e)) continue;
    const list = pos[e.p];
    if (!list) return `record of unknown producer ${e.p}`;
    if (e.n !== list.length) return `producer ${e.p}: record #${e.n} arrived where #${list.length} was due (log position ${i})`;
    list.push(i);
  }
  for (let p = 0; p < scripts.length; p++) {
    if (pos[p]!.length !== totalRecords(scripts[p]!)) return `producer ${p}: ${pos[p]!.length} records arrived, ${totalRecords(scripts[p]!)} sent`;
  }
  for (let i = 0; i < log.length; i++) {
    const e = log[i]!;
    if ("p" in e) continue;
    const id = "barrier" in e ? e.barrier : e.abort;
    for (let p = 0; p < scripts.length; p++) {
      const k = recordsBefore(scripts[p]!, id);
      if (k === undefined) continue;
      const after = pos[p]![k];
      if (after !== undefined && after < i) return `producer ${p}: record #${k} (after barrier ${id}) arrived before the event at ${i}`;
      if ("barrier" in e && k > 0 && pos[p]![k - 1]! > i) return `producer ${p}: record #${k - 1} (before barrier ${id}) arrived after the barrier event at ${i}`;
    }
  }
  return null;
}

/** workerData of the fixture (plus `brokerPort`, transferred). */
export interface BarrierFixtureData {
  barrierFixture: true;
  natsUrl: string;
  prefix: string;
  location: TaskLocation;
  attemptId: string;
  outputs: ResultPartitionDeploymentDescriptor[];
  producerIndex: number;
  steps: Step[];
}

async function main(): Promise<void> {
  const { connectNats } = await import("../../src/rpc/nats.js");
  const { Subjects } = await import("../../src/rpc/subjects.js");
  const { connectWorkerToBroker, NetworkEnvironment } = await import("../../src/network/index.js");
  const data = workerData as BarrierFixtureData;
  const port = parentPort!;
  const nc = await connectNats(data.natsUrl, `barrier-fixture-${data.location.slotIndex}`);
  const broker = connectWorkerToBroker(data.location.slotIndex);
  const env = new NetworkEnvironment({ nc, subjects: new Subjects(data.prefix), location: data.location, ...(broker ? { broker } : {}) });
  try {
    const out = env.createOutput(data.attemptId, data.outputs, { bufferTimeoutMs: 20, bufferRecords: 16 });
    await runScript(out, data.producerIndex, data.steps);
    port.postMessage({ type: "done", stats: out.stats });
  } catch (err) {
    port.postMessage({ type: "fatal", message: (err as Error).stack ?? String(err) });
  }
  port.once("message", async () => {
    env.close();
    broker?.close();
    await nc.close();
    port.close();
  });
}

if (!isMainThread && (workerData as Partial<BarrierFixtureData> | null)?.barrierFixture) {
  main().catch((err) => parentPort!.postMessage({ type: "fatal", message: (err as Error).stack ?? String(err) }));
}
