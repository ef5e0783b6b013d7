/**
 * Shared pieces of the network tests: building the descriptors of a producer → consumer topology,
 * running producers and consumers against RecordOutput / RecordInput, and the expected routing.
 */
import type { InputGateDeploymentDescriptor, ResultPartitionDeploymentDescriptor, TaskLocation } from "../../src/deployment/descriptors.js";
import type { PartitionerType } from "../../src/jobgraph/types.js";
import { isInputBatch, type CheckpointableInput, type InputBatch, type InputEvent, type RecordInput, type RecordOutput } from "../../src/runtime/api.js";
import { operatorIndexForKey } from "../../src/state/key-groups.js";

/** A producer → consumer edge. */
export interface Topology {
  resultId: string;
  producers: Array<{ attemptId: string; location: TaskLocation }>;
  consumers: Array<{ attemptId: string; location: TaskLocation }>;
  pattern: "ALL_TO_ALL" | "POINTWISE";
  partitioner: PartitionerType;
  maxParallelism: number;
}

/** A test record: [producer index, sequence number, key]. */
export type Rec = [number, number, string];

/** The n-th record of producer p. */
export function rec(p: number, n: number, keys = 50): Rec {
  return [p, n, `key-${n % keys}`];
}

/** Pointwise: the consumers fed by producer i. */
function pointwiseConsumers(i: number, P: number, C: number): number[] {
  if (P >= C) return [Math.floor((i * C) / P)];
  const out: number[] = [];
  for (let j = 0; j < C; j++) if (Math.floor((j * P) / C) === i) out.push(j);
  return out;
}

/** The output descriptor of producer i. */
export function outputOf(t: Topology, i: number): ResultPartitionDeploymentDescriptor {
  const P = t.producers.length;
  const C = t.consumers.length;
  const n = t.pattern === "ALL_TO_ALL" ? C : pointwiseConsumers(i, P, C).length;
  return {
    resultId: t.resultId,
    partitionIndex: i,
    numSubpartitions: n,
    partitioner: t.partitioner,
    key: 2,
    maxParallelism: t.maxParallelism,
    consumerParallelism: C,
    partitionType: "PIPELINED",
  };
}

/** The input gate descriptor of consumer j. */
export function inputOf(t: Topology, j: number): InputGateDeploymentDescriptor {
  const P = t.producers.length;
  const C = t.consumers.length;
  const channels = [];
  for (let i = 0; i < P; i++) {
    const p = t.producers[i]!;
    if (t.pattern === "ALL_TO_ALL") {
      channels.push({ producerAttemptId: p.attemptId, partitionIndex: i, subpartitionIndex: j, location: p.location });
    } else {
      const s = pointwiseConsumers(i, P, C).indexOf(j);
      if (s >= 0) channels.push({ producerAttemptId: p.attemptId, partitionIndex: i, subpartitionIndex: s, location: p.location });
    }
  }
  return { resultId: t.resultId, partitionType: "PIPELINED", channels };
}

/** The subpartition producer i sends its n-th record to (or -1: all). */
export function routeOf(t: Topology, i: number, r: Rec, n: number): number {
  const d = outputOf(t, i);
  switch (t.partitioner) {
    case "hash":
      return operatorIndexForKey(r[2], t.maxParallelism, t.consumers.length);
    case "forward":
      return 0;
    case "rescale":
      return n % d.numSubpartitions;
    case "rebalance":
      return (n + i) % d.numSubpartitions;
    case "broadcast":
      return -1;
  }
}

/** The records consumer j must receive on the channel from producer i, in order. */
export function expectedOn(t: Topology, i: number, subpartition: number, count: number, keys = 50): Rec[] {
  const out: Rec[] = [];
  for (let n = 0; n < count; n++) {
    const r = rec(i, n, keys);
    const s = routeOf(t, i, r, n);
    if (s === subpartition || s === -1) out.push(r);
  }
  return out;
}

/** Emits `count` records, honoring backpressure after each; then finishes. */
export async function produce(out: RecordOutput, p: number, count: number, keys = 50, onEmit?: () => void): Promise<void> {
  for (let n = 0; n < count; n++) {
    out.emit(rec(p, n, keys));
    onEmit?.();
    if (!out.isAvailable()) await out.available();
  }
  await out.finish();
}

/** Reads everything; returns the records per "gate/channel". */
export async function consume(input: RecordInput, opts: { recycleDelayMs?: number; onBatch?: () => void } = {}): Promise<Map<string, unknown[]>> {
  const got = new Map<string, unknown[]>();
  for (;;) {
    const b = await input.next();
    if (b === null) return got;
    const k = `${b.gate}/${b.channel}`;
    let list = got.get(k);
    if (!list) got.set(k, (list = []));
    for (const r of b.records) list.push(r);
    opts.onBatch?.();
    if (opts.recycleDelayMs) await new Promise((r) => setTimeout(r, opts.recycleDelayMs));
    input.recycle(b);
  }
}

/** Checks that consumer j got exactly, per channel, what its producers sent it. Returns a message or null. */
export function checkConsumer(t: Topology, j: number, got: Map<string, unknown[]>, count: number, keys = 50): string | null {
  const gate = inputOf(t, j);
  let total = 0;
  for (let c = 0; c < gate.channels.length; c++) {
    const ch = gate.channels[c]!;
    const expected = expectedOn(t, ch.partitionIndex, ch.subpartitionIndex, count, keys);
    const actual = got.get(`0/${c}`) ?? [];
    total += actual.length;
    if (actual.length !== expected.length) return `consumer ${j} channel ${c}: ${actual.length} records, expected ${expected.length}`;
    for (let k = 0; k < expected.length; k++) {
      if (JSON.stringify(actual[k]) !== JSON.stringify(expected[k])) {
        return `consumer ${j} channel ${c} record ${k}: ${JSON.stringify(actual[k])}, expected ${JSON.stringify(expected[k])}`;
      }
    }
  }
  for (const k of got.keys()) if (!k.startsWith("0/") || Number(k.slice(2)) >= gate.channels.length) return `consumer ${j}: unexpected channel ${k}`;
  return total >= 0 ? null : "unreachable";
}

/** Makes a topology with attempt ids `<tag>-p<i>` / `<tag>-c<j>`. */
export function topology(
  tag: string,
  P: number,
  C: number,
  pattern: Topology["pattern"],
  partitioner: PartitionerType,
  producerLoc: (i: number) => TaskLocation,
  consumerLoc: (j: number) => TaskLocation,
): Topology {
  return {
    resultId: `${tag}-result`,
    producers: Array.from({ length: P }, (_, i) => ({ attemptId: `${tag}-p${i}`, location: producerLoc(i) })),
    consumers: Array.from({ length: C }, (_, j) => ({ attemptId: `${tag}-c${j}`, location: consumerLoc(j) })),
    pattern,
    partitioner,
    maxParallelism: 128,
  };
}

/** One element of an input in its order: a record (with its gate and channel), or an event. */
export type Element = { record: unknown; gate: number; channel: number } | Exclude<InputEvent, InputBatch>;

/**
 * Reads `input.nextEvent()` one element at a time: each batch's records and the watermarks between
 * them (`InputBatch.watermarks`) in their order, and the events between batches. A batch is recycled
 * once it was read.
 */
export function elementReader(input: Pick<CheckpointableInput, "nextEvent" | "recycle">): () => Promise<Element | null> {
  const pending: Element[] = [];
  return async () => {
    while (pending.length === 0) {
      const e = await input.nextEvent();
      if (e === null) return null;
      if (!isInputBatch(e)) return e;
      const m = e.watermarks ?? [];
      for (let i = 0, mi = 0; i <= e.records.length; i++) {
        for (; mi < m.length && m[mi] === i; mi += 2) pending.push({ watermark: m[mi + 1]! });
        if (i < e.records.length) pending.push({ record: e.records[i], gate: e.gate, channel: e.channel });
      }
      input.recycle(e);
    }
    return pending.shift()!;
  };
}

/** An element as a short string for comparisons: the record as JSON, `W<watermark>`, `B<checkpoint>` or `A<checkpoint>`. */
export function elementText(e: Element): string {
  if ("record" in e) return JSON.stringify(e.record);
  if ("watermark" in e) return `W${e.watermark}`;
  if ("barrier" in e) return `B${e.barrier.checkpointId}`;
  return `A${e.abort}`;
}
