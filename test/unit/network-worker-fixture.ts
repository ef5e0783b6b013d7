/**
 * Worker-thread fixture of the network tests: a slot worker that runs producer and consumer tasks
 * against its own NetworkEnvironment (own NATS connection, broker client from workerData.brokerPort)
 * and posts one result per task. Does nothing when loaded in a main thread.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import type { InputGateDeploymentDescriptor, ResultPartitionDeploymentDescriptor, TaskLocation } from "../../src/deployment/descriptors.js";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { connectWorkerToBroker, NetworkEnvironment, type NetworkConfig } from "../../src/network/index.js";
import { consume, produce } from "./network-util.js";

/** A task the fixture runs. */
export type FixtureTask =
  | { kind: "produce"; attemptId: string; outputs: ResultPartitionDeploymentDescriptor[]; producerIndex: number; count: number; delayMs?: number; bufferRecords?: number }
  | { kind: "consume"; attemptId: string; inputs: InputGateDeploymentDescriptor[]; delayMs?: number; recycleDelayMs?: number };

/** workerData of the fixture (plus `brokerPort`, transferred). */
export interface FixtureData {
  natsUrl: string;
  prefix: string;
  location: TaskLocation;
  config?: Partial<NetworkConfig>;
  tasks: FixtureTask[];
}

/** What the fixture posts per task. */
export interface FixtureResult {
  type: "result";
  attemptId: string;
  error?: { code?: string; message: string };
  /** Consumers: records per "gate/channel". */
  records?: Array<[string, unknown[]]>;
  stats?: unknown;
}

/** Posted once every task is done: the worker's NATS message counters. */
export interface FixtureDone {
  type: "done";
  outMsgs: number;
  inMsgs: number;
}

async function main(): Promise<void> {
  const data = workerData as FixtureData;
  const port = parentPort!;
  const nc = await connectNats(data.natsUrl, `fixture-${data.location.taskExecutorId}-${data.location.slotIndex}`);
  const broker = connectWorkerToBroker(data.location.slotIndex);
  const env = new NetworkEnvironment({ nc, subjects: new Subjects(data.prefix), location: data.location, ...(broker ? { broker } : {}), ...(data.config ? { config: data.config } : {}) });
  const before = nc.stats();
  const runs = data.tasks.map(async (t) => {
    if (t.delayMs) await new Promise((r) => setTimeout(r, t.delayMs));
    const result: FixtureResult = { type: "result", attemptId: t.attemptId };
    try {
      if (t.kind === "produce") {
        const out = env.createOutput(t.attemptId, t.outputs, { bufferTimeoutMs: 50, bufferRecords: t.bufferRecords ?? 128 });
        await produce(out, t.producerIndex, t.count);
        result.stats = out.stats;
      } else {
        const input = env.createInput(t.attemptId, t.inputs);
        const got = await consume(input, t.recycleDelayMs ? { recycleDelayMs: t.recycleDelayMs } : {});
        result.records = [...got.entries()];
        result.stats = input.stats;
      }
    } catch (err) {
      result.error = { code: (err as { code?: string }).code, message: (err as Error).message };
    }
    env.release(t.attemptId);
    port.postMessage(result);
  });
  await Promise.all(runs);
  const s = nc.stats();
  port.postMessage({ type: "done", outMsgs: s.outMsgs - before.outMsgs, inMsgs: s.inMsgs - before.inMsgs } satisfies FixtureDone);
  port.once("message", async () => {
    env.close();
    broker?.close();
    await nc.close();
    port.close();
  });
}

if (!isMainThread && (workerData as FixtureData | null)?.tasks) {
  main().catch((err) => {
    parentPort!.postMessage({ type: "fatal", message: (err as Error).stack ?? String(err) });
  });
}
