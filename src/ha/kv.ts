import { Bucket, Kvm, type KV } from "@nats-io/kv";
import { jetstreamManager } from "@nats-io/jetstream";
import { deleteMessage, deleteMessages, openOrCreate, readLastPerSubject, retryTransient, sequencesOf } from "../jetstream/index.js";
import type { NatsConnection } from "@nats-io/transport-node";
import { decode, encode } from "../codec/codec.js";

export type { KV };

/**
 * Replicas for Eddy's buckets and streams: EDDY_KV_REPLICAS when set; else, when the server is part
 * of a cluster, as many as the cluster has servers up to 3 (known from the connect URLs the servers
 * gossip to clients); else 1.
 */
export function kvReplicas(nc?: NatsConnection): number {
  const env = Number(process.env.EDDY_KV_REPLICAS);
  if (Number.isInteger(env) && env >= 1 && env <= 5) return env;
  const info = nc?.info;
  if (!info?.cluster) return 1;
  const servers = new Set(info.connect_urls ?? []).size;
  return Math.max(1, Math.min(3, servers));
}

/**
 * Opens (creating if absent) a KV bucket for HA data. Direct get is off: these stores rest on
 * read-after-write, and a direct get may answer from a replica that lags behind the stream leader.
 * A role that may only read it (a worker) waits for the JobManager to create it.
 */
export async function openBucket(nc: NatsConnection, name: string, opts: { ttlMs?: number; history?: number } = {}): Promise<KV> {
  const kvm = new Kvm(nc);
  return openOrCreate(
    // nats.js's open binds without a lookup: the stream's info says whether the bucket exists.
    async () => {
      await (await jetstreamManager(nc)).streams.info(`KV_${name}`);
      return kvm.open(name, { allow_direct: false });
    },
    () =>
      kvm.create(name, {
        history: opts.history ?? 1,
        replicas: kvReplicas(nc),
        allow_direct: false,
        ...(opts.ttlMs ? { ttl: opts.ttlMs } : {}),
      }),
  );
}

/** Reads and decodes a msgpack value, or undefined when absent or deleted. */
export async function getValue<T>(kv: KV, key: string): Promise<{ value: T; revision: number } | undefined> {
  const e = await kv.get(key);
  if (e?.operation !== "PUT" || e.value.length === 0) return undefined;
  return { value: decode(e.value) as T, revision: e.revision };
}

/** Encodes and writes a value. */
export function putValue(kv: KV, key: string, value: unknown): Promise<number> {
  return kv.put(key, encode(value));
}

/** The bucket behind `kv` (its stream, subject prefix and key codec: the KV interface has none of them). */
function bucketOf(kv: KV, what: string): Bucket {
  if (!(kv instanceof Bucket)) throw new TypeError(`${what} needs a bucket opened with nats.js's Kvm`);
  return kv;
}

/**
 * Removes `key` from the bucket leaving nothing behind (no delete or purge marker): deletes its
 * current message by sequence (its revision). A bucket with history 1 holds no other message of the
 * key; a value written meanwhile, at a newer revision, stays. True when there was a message to delete.
 * Not `kv.purge` (a marker stays) nor a filtered stream purge (not replayed exactly by nats-server
 * 2.9, see src/jetstream/delete-messages.ts). Retried through a stream's leader election.
 */
export async function removeKey(kv: KV, key: string): Promise<boolean> {
  const b = bucketOf(kv, "removeKey");
  const e = await retryTransient(() => kv.get(key), 30_000, { jetStreamKnown: true });
  if (!e) return false;
  return deleteMessage(b.jsm, b.stream, e.revision);
}

/**
 * Removes every message (values and markers) of the keys matching `filter` (a wildcard such as
 * `<jobId>.>`), by sequence as {@link removeKey} does; answers how many were deleted.
 */
export async function removeKeys(kv: KV, filter: string): Promise<number> {
  const b = bucketOf(kv, "removeKeys");
  const seqs = await sequencesOf(b.js, b.stream, `${b.prefix}.${filter}`);
  return deleteMessages(b.jsm, b.stream, seqs);
}

/**
 * Every live key of the bucket matching `filter` (a key or wildcard such as `job.chk.*`; all by
 * default), read with a pull consumer (last value per key, headers only). Not
 * `kv.keys()`, which can lose keys to a race in nats.js (see {@link readLastPerSubject}); an HA
 * store must not miss a job that way. Retried through a stream's leader election; TimeoutError after 30 s.
 */
export async function listKeys(kv: KV, filter = ">"): Promise<string[]> {
  const b = bucketOf(kv, "listKeys");
  const out: string[] = [];
  await readLastPerSubject(b.js, b.stream, `${b.prefix}.${filter}`, { headersOnly: true }, (m) => {
    const op = m.headers?.get("KV-Operation");
    if (op !== "DEL" && op !== "PURGE") out.push(b.decodeKey(m.subject.substring(b.prefixLen)));
  });
  return out;
}
