/**
 * `source.jetstream` against a bare nats.js consumer: a stream of 1 KB JSON messages read by the job
 * `source.jetstream` (bounded: true) → `sink.discard` at parallelism 1 on a process cluster (messages
 * per second of the job's net runtime), and by an ordered consumer in this process that decodes each
 * payload (`consume()` and `JSON.parse`), in the same run, alternating so drift falls on both. Once on
 * a secured cluster (the worker reads under its role) and once on an open one: nats-server keeps a
 * response permission for every message with a reply subject delivered to a client whose role has
 * `allow_responses`, and JetStream deliveries all carry one, so the secured figure shows that cost.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { awaitJobResult, startProcessCluster } from "../helpers/process-cluster.js";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} K`);

/** One payload of about `bytes` bytes: a JSON object with an index and padding. */
function payload(i: number, bytes: number): string {
  const head = JSON.stringify({ i, pad: "" });
  return JSON.stringify({ i, pad: "x".repeat(Math.max(0, bytes - head.length)) });
}

/** Reads `messages` 1 KB JSON messages both ways, `rounds` times each. */
export async function jetStreamBench(messages = 50_000, rounds = 2): Promise<void> {
  for (const kind of ["secure", "insecure"] as const) await benchOne(kind, messages, rounds);
}

async function benchOne(kind: "secure" | "insecure", messages: number, rounds: number): Promise<void> {
  const cluster = await startProcessCluster({ taskExecutors: 1, slots: 2, insecure: kind === "insecure" });
  try {
    const js = jetstream(cluster.nc);
    const jsm = await jetstreamManager(cluster.nc);
    const stream = "BENCH_JSS";
    const subject = `${cluster.prefix}.user.bench`;
    await jsm.streams.add({ name: stream, subjects: [subject] });
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < messages; i++) {
      inFlight.push(js.publish(subject, payload(i, 1024)));
      if (inFlight.length >= 512) await Promise.all(inFlight.splice(0));
    }
    await Promise.all(inFlight);
    const source: number[] = [];
    const bare: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const spec = {
        name: "jetstream source bench",
        vertices: [
          { id: "in", invokable: "source.jetstream", parallelism: 1, config: { stream, bounded: true } },
          { id: "out", invokable: "sink.discard", parallelism: 1 },
        ],
        edges: [{ source: "in", target: "out", partitioner: "forward" }],
      };
      const { jobId } = await cluster.dispatcher.ask<{ jobId: string }>("submitJob", spec);
      const res = await awaitJobResult(cluster.dispatcher, jobId, 300_000);
      if (res.state !== "FINISHED") throw new Error(`the source bench job ended ${res.state}: ${JSON.stringify(res.failure)}`);
      source.push(messages / (res.netRuntimeMs / 1000));

      const t0 = performance.now();
      const c = await js.consumers.get(stream);
      const it = await c.consume({ max_messages: 1024 });
      let n = 0;
      let sum = 0;
      for await (const m of it) {
        sum += (JSON.parse(m.string()) as { i: number }).i;
        if (++n === messages) break;
      }
      bare.push(messages / ((performance.now() - t0) / 1000));
      if (sum !== (messages * (messages - 1)) / 2) throw new Error("the bare consumer read other messages than published");
    }
    const s = median(source);
    const b = median(bare);
    console.log(`jetstream (${kind} cluster): ${messages} messages of 1 KB JSON, ${rounds} rounds each`);
    console.log(`  source.jetstream -> sink.discard p=1: ${fmt(s)} messages/s (net runtime)`);
    console.log(`  bare nats.js ordered consumer + JSON.parse (as admin): ${fmt(b)} messages/s`);
    console.log(`  ratio source/bare: ${(s / b).toFixed(2)} (goal >= 0.5)`);
  } finally {
    await cluster.stop();
  }
}
