import type { JetStreamClient, JetStreamManager, MsgRequest } from "@nats-io/jetstream";
import { Base64UrlPaddedCodec } from "@nats-io/obj";
import { deleteMessage, deleteMessages, nextBySubject, retryTransient, sequencesOf } from "../jetstream/index.js";

/**
 * Objects up to this size have their chunks found by message gets (one request per chunk, payload
 * included); larger ones by a headers-only consumer on the chunk subject (a few requests, no payload).
 */
const GET_CHUNKS_UP_TO_BYTES = 256 * 1024;

/** How long a deletion waits for a stream without a leader (each request retried), ms. */
const DELETE_RETRY_MS = 30_000;

/** The subject of the info (metadata) message of object `name` in Object Store `bucket` (ADR-20). */
export function objectMetaSubject(bucket: string, name: string): string {
  return `$O.${bucket}.M.${Base64UrlPaddedCodec.encode(name)}`;
}

/** What {@link deleteObjectChunks} needs to know of the object: its chunks' nuid, and their number and size when known. */
export interface ChunksOf {
  nuid: string;
  /** How many chunks there are at most (unknown: found by a consumer). */
  chunks?: number;
  /** Total bytes of the chunks (unknown: found by a consumer). */
  size?: number;
}

/**
 * Deletes the chunk messages of one object of Object Store `bucket` by sequence, oldest first; answers
 * how many there were. Message deletions, unlike the filtered purge nats.js's `ObjectStore.delete` makes,
 * are replayed exactly by a recovering replica on every supported nats-server
 * (src/jetstream/delete-messages.ts). `totalMs` bounds each request's retries.
 */
export async function deleteObjectChunks(js: JetStreamClient, jsm: JetStreamManager, bucket: string, of: ChunksOf, totalMs = DELETE_RETRY_MS): Promise<number> {
  const stream = `OBJ_${bucket}`;
  const subject = `$O.${bucket}.C.${of.nuid}`;
  let seqs: number[];
  if (of.chunks !== undefined && of.size !== undefined && of.size <= GET_CHUNKS_UP_TO_BYTES) {
    seqs = [];
    for (let k = 0; k < of.chunks; k++) {
      const query = nextBySubject(subject, (seqs.at(-1) ?? 0) + 1);
      const m = await retryTransient(() => jsm.streams.getMessage(stream, query), totalMs, { jetStreamKnown: true });
      if (!m) break;
      seqs.push(m.seq);
    }
  } else {
    seqs = await sequencesOf(js, stream, subject);
  }
  return deleteMessages(jsm, stream, seqs, totalMs);
}

/**
 * Deletes object `name` of Object Store `bucket` so that nothing of it stays in the stream: the chunk
 * messages its info names, then every message of its info subject (a deletion marker of nats.js, or
 * an info published without rollup, included), each by sequence and oldest first
 * (src/jetstream/delete-messages.ts says why). A deletion that fails half-way leaves the info, so
 * deleting again finds the rest. False when there was no such object.
 */
export async function deleteObject(js: JetStreamClient, jsm: JetStreamManager, bucket: string, name: string): Promise<boolean> {
  const stream = `OBJ_${bucket}`;
  const subject = objectMetaSubject(bucket, name);
  const get = (query: MsgRequest) => retryTransient(() => jsm.streams.getMessage(stream, query), DELETE_RETRY_MS, { jetStreamKnown: true });
  const meta = await get({ last_by_subj: subject });
  if (!meta) return false;
  let info: Partial<ChunksOf>;
  try {
    info = meta.json<Partial<ChunksOf>>();
  } catch {
    info = {}; // not an object's info: only the message goes
  }
  if (typeof info.nuid === "string" && info.nuid.length > 0) {
    const known = (v: unknown): number | undefined => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
    await deleteObjectChunks(js, jsm, bucket, { nuid: info.nuid, chunks: known(info.chunks), size: known(info.size) });
  }
  // The info subject holds one message (infos are published with rollup) unless someone published
  // one without: the oldest goes first, until the one read above is gone.
  for (;;) {
    const oldest = await get(nextBySubject(subject, 1));
    if (!oldest || oldest.seq > meta.seq) break;
    await deleteMessage(jsm, stream, oldest.seq);
    if (oldest.seq === meta.seq) break;
  }
  return true;
}
