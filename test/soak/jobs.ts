/**
 * The soak's two exactly-once jobs, side by side: keyed-counter (examples/keyed-counter.ts) into its
 * file sink, and keyedEvents -> countPerKey -> `sink.jetstream` into an R3 stream. Both emit
 * `<key> <i> <count>` per event; their committed output is read back here for the end checks.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { jetstreamManager, jetstream, DeliverPolicy } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { unpackData } from "../../src/codec/codec.js";
import type { JobGraphSpec } from "../../src/jobgraph/types.js";
import { committedLinesByFile, keyedCounterJob } from "../helpers/keyed-counter.js";

/** Subtasks of every vertex of both jobs. */
export const PARALLELISM = 2;

/**
 * Events of a job whose slowest source subtask emits for `ms` at `rate` events per second over all
 * subtasks. Each subtask is paced at rate / PARALLELISM and emits the events of its own keys (every
 * PARALLELISM-th key), so the subtask with the most keys sets the job's length.
 */
export function eventsFor(rate: number, ms: number, keys: number): number {
  const mostKeys = Math.ceil(keys / PARALLELISM);
  return Math.round(((rate / PARALLELISM) * (ms / 1000) * keys) / mostKeys);
}

/** Shape of one job's run: events over keys at a rate, checkpoints every `intervalMs`. */
export interface SoakJobSize {
  events: number;
  keys: number;
  rate: number;
  intervalMs: number;
}

/** One committed output line and where it came from (the evidence of a duplicate). */
export interface OutputLine {
  line: string;
  origin: string;
}

/** A job of the soak: how to build it and how to read its committed output. */
export interface SoakJob {
  name: string;
  size: SoakJobSize;
  spec: JobGraphSpec | Record<string, unknown>;
  /** Every committed output line `<key> <i> <count>` with where it was found (file, or stream sequence and message id). */
  output(): Promise<OutputLine[]>;
  /** How many output lines are committed so far (duplicates included): the job's progress. */
  committedCount(): Promise<number>;
  /** Removes what the job wrote outside Eddy (the output stream). */
  dispose(): Promise<void>;
}

/**
 * Restarts the soak's faults may cause, without ever giving up within a run. The delay is part of every
 * recovery the report measures; 100 ms, as the suite's keyed-counter tests use.
 */
const RESTART_STRATEGY = { type: "fixed-delay", attempts: 100_000, delayMs: 100 } as const;

/** keyed-counter with its exactly-once file sink writing under `dir`. */
export async function keyedCounterFileJob(size: SoakJobSize, dir: string): Promise<SoakJob> {
  const out = join(dir, "keyed-counter-out");
  const spec = await keyedCounterJob({ ...size, output: out, parallelism: PARALLELISM });
  spec.config = { ...spec.config, restartStrategy: RESTART_STRATEGY };
  return {
    name: "keyed-counter (file sink)",
    size,
    spec,
    output: async () => committedLinesByFile(out).map(({ line, file }) => ({ line, origin: file })),
    committedCount: async () => countCommittedLines(out),
    dispose: async () => undefined,
  };
}

/** keyedEvents -> countPerKey -> sink.jetstream, into a three-replica stream made here. */
export async function keyedCounterJetStreamJob(size: SoakJobSize, nc: NatsConnection, prefix: string): Promise<SoakJob> {
  const stream = `${prefix}_soak_out`;
  const subject = `${prefix}.out.${stream}`;
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [subject], num_replicas: 3 });
  const spec = {
    name: "keyed-counter to JetStream",
    vertices: [
      { id: "events", invokable: "source.keyedEvents", parallelism: PARALLELISM, config: { events: size.events, keys: size.keys, ratePerSecond: size.rate } },
      { id: "count", invokable: "op.countPerKey", parallelism: PARALLELISM },
      { id: "out", invokable: "sink.jetstream", parallelism: PARALLELISM, config: { subject, stream } },
    ],
    edges: [
      { source: "events", target: "count", partitioner: "hash", key: 0 },
      { source: "count", target: "out", partitioner: "forward" },
    ],
    config: { checkpointing: { intervalMs: size.intervalMs }, restartStrategy: RESTART_STRATEGY },
  };
  return {
    name: "keyed-counter (JetStream sink)",
    size,
    spec,
    output: () => streamLines(nc, stream),
    committedCount: async () => (await jsm.streams.info(stream)).state.messages,
    dispose: async () => {
      await jsm.streams.delete(stream).catch(() => undefined);
    },
  };
}

/** Lines of the visible (committed) files of a file sink's directory, without keeping them. */
function countCommittedLines(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    if (f.startsWith(".")) continue;
    const text = readFileSync(join(dir, f), "latin1");
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
    if (text.length && !text.endsWith("\n")) n++;
  }
  return n;
}

/** Every message of `stream` as `<key> <i> <count>`, read with an ordered consumer up to the last sequence. */
async function streamLines(nc: NatsConnection, stream: string): Promise<OutputLine[]> {
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(stream)).state.last_seq;
  const lines: OutputLine[] = [];
  if (last === 0) return lines;
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  const timer = setTimeout(() => void messages.close(), 60_000);
  try {
    for await (const m of messages) {
      const [key, i, count] = unpackData(m.data) as [string, number, number];
      lines.push({ line: `${key} ${i} ${count}`, origin: `seq ${m.seq} id ${m.headers?.get("Nats-Msg-Id") ?? "-"}` });
      if (m.seq >= last) break;
    }
  } finally {
    clearTimeout(timer);
    await messages.close();
  }
  return lines;
}

/** Violations of exactly-once in `lines` for `events` events over `keys` keys: duplicates, losses, wrong counts. */
export function exactlyOnceViolations(job: string, lines: OutputLine[], size: SoakJobSize): string[] {
  const seen = new Map<number, number>();
  const origins = new Map<number, string[]>();
  const wrong: string[] = [];
  for (const { line: l, origin } of lines) {
    const [key, is, cs] = l.split(" ");
    const i = Number(is);
    if (!Number.isInteger(i) || i < 0 || i >= size.events || key !== `k${i % size.keys}` || Number(cs) !== Math.floor(i / size.keys) + 1) {
      wrong.push(l);
      continue;
    }
    seen.set(i, (seen.get(i) ?? 0) + 1);
    origins.set(i, [...(origins.get(i) ?? []), origin]);
  }
  const dups = [...seen].filter(([, n]) => n > 1).map(([i]) => i);
  const lost: number[] = [];
  for (let i = 0; i < size.events; i++) if (!seen.has(i)) lost.push(i);
  const out: string[] = [];
  const sample = (xs: Array<number | string>) => xs.slice(0, 10).join(", ") + (xs.length > 10 ? ", ..." : "");
  if (lost.length) out.push(`${job}: ${lost.length} of ${size.events} events lost (i = ${sample(lost)})`);
  if (dups.length) {
    const first = dups[0]!;
    const last = dups[dups.length - 1]!;
    const where = (i: number) => `i = ${i} in ${origins.get(i)!.join(" and ")}`;
    out.push(`${job}: ${dups.length} events committed more than once (i = ${sample(dups)}; ${where(first)}; ${where(last)})`);
  }
  if (wrong.length) out.push(`${job}: ${wrong.length} lines not an expected event with its count (${sample(wrong)})`);
  return out;
}
