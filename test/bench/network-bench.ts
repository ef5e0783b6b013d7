/**
 * Network benchmark: short string records through the remote (NATS) link between two worker threads
 * standing for two TaskExecutors, with Eddy's partitions, credit-based flow control and framing.
 * `benchNetwork(natsUrl)` is meant to be called by the project benchmark; this file is also the
 * workers' entry point. Not wired into any npm script.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import type { ResultPartitionDeploymentDescriptor, InputGateDeploymentDescriptor } from "../../src/deployment/descriptors.js";
import { connectNats } from "../../src/rpc/nats.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { connectWorkerToBroker, LocalExchangeBroker, NetworkEnvironment, type NetworkConfig } from "../../src/network/index.js";

/** Result of {@link benchNetwork}. */
export interface NetworkBenchResult {
  recordsPerSec: number;
  records: number;
  ms: number;
  buffersSent: number;
  bytesSent: number;
  /** Encoded megabytes per second. */
  mbPerSec: number;
  /** Times the producer was backpressured. */
  backpressureEvents: number;
  /** Event-loop utilization (0..1) of the producer and consumer threads during the run. */
  producerElu: number;
  consumerElu: number;
}

interface BenchWorkerData {
  bench: "producer" | "consumer";
  natsUrl: string;
  prefix: string;
  records: number;
  bufferRecords: number;
  config: Partial<NetworkConfig>;
  /** "remote": two TaskExecutors (NATS); "thread": two slots of one TaskExecutor (broker, MessagePorts). */
  link: "remote" | "thread";
}

const PRODUCER = "bench-producer-attempt";
const CONSUMER = "bench-consumer-attempt";
const RESULT = "bench-result";
const output: ResultPartitionDeploymentDescriptor = {
  resultId: RESULT,
  partitionIndex: 0,
  numSubpartitions: 1,
  partitioner: "forward",
  maxParallelism: 128,
  consumerParallelism: 1,
  partitionType: "PIPELINED",
};
const gate: InputGateDeploymentDescriptor = {
  resultId: RESULT,
  partitionType: "PIPELINED",
  channels: [{ producerAttemptId: PRODUCER, partitionIndex: 0, subpartitionIndex: 0, location: { taskExecutorId: "bench-te-a", slotIndex: 0 } }],
};

async function workerMain(d: BenchWorkerData): Promise<void> {
  const port = parentPort!;
  const nc = await connectNats(d.natsUrl, `bench-${d.bench}`);
  const location =
    d.link === "remote"
      ? { taskExecutorId: d.bench === "producer" ? "bench-te-a" : "bench-te-b", slotIndex: 0 }
      : { taskExecutorId: "bench-te-a", slotIndex: d.bench === "producer" ? 0 : 1 };
  const broker = connectWorkerToBroker(location.slotIndex);
  const env = new NetworkEnvironment({ nc, subjects: new Subjects(d.prefix), location, config: d.config, ...(broker ? { broker } : {}) });
  if (d.bench === "producer") {
    const out = env.createOutput(PRODUCER, [output], { bufferTimeoutMs: 100, bufferRecords: d.bufferRecords });
    const words = Array.from({ length: 4096 }, (_, i) => `word${i.toString(36)}`);
    port.postMessage({ type: "ready" });
    await new Promise((r) => port.once("message", r));
    const elu0 = performance.eventLoopUtilization();
    for (let n = 0; n < d.records; n++) {
      out.emit(words[n & 4095]);
      if ((n & 1023) === 0 && !out.isAvailable()) await out.available();
    }
    await out.finish();
    port.postMessage({ type: "stats", stats: out.stats, elu: performance.eventLoopUtilization(elu0).utilization });
  } else {
    const input = env.createInput(CONSUMER, [gate]);
    port.postMessage({ type: "ready" });
    let count = 0;
    let chars = 0;
    let elu0: EventLoopUtilization | null = null;
    for (;;) {
      const b = await input.next();
      if (b === null) break;
      elu0 ??= performance.eventLoopUtilization();
      count += b.records.length;
      for (const r of b.records) chars += (r as string).length;
      input.recycle(b);
    }
    port.postMessage({ type: "done", count, chars, elu: elu0 ? performance.eventLoopUtilization(elu0).utilization : 0 });
  }
  await new Promise((r) => port.once("message", r));
  env.close();
  broker?.close();
  await nc.close();
}

/**
 * Pushes `records` short strings (default 2M) from one worker thread to another: over NATS (default,
 * `link: "remote"`), or through the cross-thread link of one TaskExecutor (`link: "thread"`).
 */
export async function benchNetwork(
  natsUrl: string,
  opts: { records?: number; bufferRecords?: number; config?: Partial<NetworkConfig>; link?: "remote" | "thread" } = {},
): Promise<NetworkBenchResult> {
  const records = opts.records ?? 2_000_000;
  const link = opts.link ?? "remote";
  const base = {
    natsUrl,
    prefix: `eddy-bench-${process.pid}-${Date.now()}`,
    records,
    bufferRecords: opts.bufferRecords ?? 1024,
    config: opts.config ?? {},
    link,
  };
  const broker = link === "thread" ? new LocalExchangeBroker() : null;
  const spawn = (bench: BenchWorkerData["bench"]) => {
    const brokerPort = broker?.connectWorker();
    const workerData = { ...base, bench, ...(brokerPort ? { brokerPort } : {}) };
    return new Worker(new URL(import.meta.url), { workerData, transferList: brokerPort ? [brokerPort] : [] });
  };
  const consumer = spawn("consumer");
  const producer = spawn("producer");
  const next = (w: Worker, type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const on = (m: Record<string, unknown>) => {
        if (m.type === type) {
          w.off("message", on);
          resolve(m);
        }
      };
      w.on("message", on);
      w.once("error", reject);
    });
  try {
    await Promise.all([next(consumer, "ready"), next(producer, "ready")]);
    await new Promise((r) => setTimeout(r, 300)); // let the consumer's partition request land
    const done = next(consumer, "done");
    const stats = next(producer, "stats");
    const t0 = performance.now();
    producer.postMessage("go");
    const d = await done;
    const ms = performance.now() - t0;
    const st = await stats;
    const s = st.stats as { buffersSent: number; bytesSent: number; backpressureEvents: number };
    if (d.count !== records) throw new Error(`network bench: consumer got ${String(d.count)} of ${records} records`);
    return {
      recordsPerSec: records / (ms / 1000),
      records,
      ms,
      buffersSent: s.buffersSent,
      bytesSent: s.bytesSent,
      mbPerSec: s.bytesSent / 1e6 / (ms / 1000),
      backpressureEvents: s.backpressureEvents,
      producerElu: st.elu as number,
      consumerElu: d.elu as number,
    };
  } finally {
    for (const w of [producer, consumer]) {
      const exited = new Promise((r) => w.once("exit", r));
      w.postMessage("stop");
      const t = setTimeout(() => void w.terminate(), 3_000);
      await exited;
      clearTimeout(t);
    }
    broker?.close();
  }
}

if (!isMainThread && (workerData as BenchWorkerData | null)?.bench) {
  workerMain(workerData as BenchWorkerData).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
