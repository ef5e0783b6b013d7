import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { decode, encode } from "../codec/codec.js";

export type { KV };

/** Replicas for Eddy's buckets: EDDY_KV_REPLICAS (3 on a three-server NATS cluster), default 1. */
export function kvReplicas(): number {
  return Number(process.env.EDDY_KV_REPLICAS ?? 1);
}

/**
 * Opens (creating if absent) a KV bucket for HA data. Direct get is off: these stores rest on
 * read-after-write, and a direct get may answer from a stale replica (FIELD-NOTES).
 */
export async function openBucket(nc: NatsConnection, name: string, opts: { ttlMs?: number; history?: number } = {}): Promise<KV> {
  const kvm = new Kvm(nc);
  return kvm.create(name, {
    history: opts.history ?? 1,
    replicas: kvReplicas(),
    allow_direct: false,
    ...(opts.ttlMs ? { ttl: opts.ttlMs } : {}),
  });
}

/** Reads and decodes a msgpack value, or undefined when absent or deleted. */
export async function getValue<T>(kv: KV, key: string): Promise<{ value: T; revision: number } | undefined> {
  const e = await kv.get(key);
  if (!e || e.operation !== "PUT" || e.value.length === 0) return undefined;
  return { value: decode(e.value) as T, revision: e.revision };
}

/** Encodes and writes a value. */
export function putValue(kv: KV, key: string, value: unknown): Promise<number> {
  return kv.put(key, encode(value));
}

/** Every live key of the bucket. */
export async function listKeys(kv: KV): Promise<string[]> {
  const out: string[] = [];
  const it = await kv.keys();
  for await (const k of it) out.push(k);
  return out;
}
