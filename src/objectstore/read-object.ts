import { createHash } from "node:crypto";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { ObjectInfo } from "@nats-io/obj";
import { TimeoutError } from "../core/errors.js";
import { withTimeout } from "../core/time.js";

/** About how many bytes one pull request asks for (in whole chunks, at most 256 of them). */
const FETCH_BYTES = 8 * 1024 * 1024;
const FETCH_MAX_CHUNKS = 256;
/** How long one pull request waits for its chunks before the next is sent. */
const FETCH_EXPIRES_MS = 2_000;

/** The object's chunks do not add up to its recorded size or SHA-256 digest. */
export class ObjectCorruptError extends Error {
  override readonly name = "ObjectCorruptError";
  constructor(message: string) {
    super(message);
  }
}

/** What {@link readObject} needs of the object: its chunks' nuid, size and digest (from `os.info`). */
export type ReadableObjectInfo = Pick<ObjectInfo, "name" | "nuid" | "size" | "digest" | "options">;

/**
 * Reads the object `info` of the Object Store `bucket` with an ordered *pull* consumer on its chunk
 * subject, checks the size and the SHA-256 digest, and gives the bytes.
 *
 * Why not `ObjectStore.get`: nats.js creates that push consumer before it subscribes to its deliver
 * subject, and a chunk the server delivers in between is lost; the reader then waits forever (its
 * idle heartbeats keep arriving). Seen as restores that never started on a TaskExecutor that had just
 * connected. A pull request is sent only after its reply subscription, so nothing is delivered to
 * nobody; gaps are still found by the ordered consumer (it recreates itself from the last sequence).
 *
 * Throws {@link ObjectCorruptError} when the chunks disagree with the info, TimeoutError when the whole
 * read takes longer than `timeoutMs`, and the client's error when the consumer cannot be created.
 */
export async function readObject(js: JetStreamClient, bucket: string, info: ReadableObjectInfo, timeoutMs: number): Promise<Uint8Array> {
  const out = new Uint8Array(info.size);
  const sha = createHash("sha256");
  if (info.size > 0) {
    const deadline = Date.now() + timeoutMs;
    const left = () => deadline - Date.now();
    const consumer = await withTimeout(
      js.consumers.get(`OBJ_${bucket}`, { filter_subjects: `$O.${bucket}.C.${info.nuid}`, inactive_threshold: 60_000 }),
      Math.max(1, left()),
      `creating a consumer to read ${info.name}`,
    );
    // max_bytes would end a batch with an error when the next chunk does not fit: ask for chunks instead.
    const chunk = info.options?.max_chunk_size ?? 128 * 1024;
    const perFetch = Math.max(1, Math.min(FETCH_MAX_CHUNKS, Math.floor(FETCH_BYTES / chunk)));
    try {
      let off = 0;
      let last = false;
      while (!last) {
        if (left() <= 0) throw new TimeoutError(`reading ${info.name} from ${bucket} timed out after ${timeoutMs} ms (${off} of ${info.size} bytes)`);
        const batch = await consumer.fetch({ max_messages: perFetch, expires: Math.max(1_000, Math.min(left(), FETCH_EXPIRES_MS)) });
        for await (const m of batch) {
          const chunk = m.data;
          if (off + chunk.length > out.length) throw new ObjectCorruptError(`${info.name} has more than its recorded ${info.size} bytes`);
          out.set(chunk, off);
          off += chunk.length;
          sha.update(chunk);
          if (m.info.pending === 0) {
            last = true;
            break;
          }
        }
      }
      if (off !== info.size) throw new ObjectCorruptError(`${info.name}: ${off} bytes read, ${info.size} recorded`);
    } finally {
      void consumer.delete().catch(() => undefined);
    }
  }
  const expected = parseDigest(info.digest);
  if (!expected || !sha.digest().equals(expected)) throw new ObjectCorruptError(`${info.name}: the chunks' SHA-256 does not match the recorded digest ${info.digest}`);
  return out;
}

/** The bytes of an Object Store digest (`SHA-256=` then base64url, padded or not, or hex). */
function parseDigest(digest: string): Buffer | undefined {
  const m = /^SHA-256=(.+)$/i.exec(digest);
  if (!m) return undefined;
  const s = m[1]!;
  const b = /^[0-9a-f]{64}$/i.test(s) ? Buffer.from(s, "hex") : Buffer.from(s, "base64url");
  return b.length === 32 ? b : undefined;
}

/** How long a lookup of an object's info may take. */
export const OBJECT_META_TIMEOUT_MS = 15_000;

/** How long moving `bytes` to or from the Object Store may take: 30 s plus 2 s per MB (a slow, shared link). */
export function transferTimeoutMs(bytes: number): number {
  return 30_000 + Math.ceil(bytes / 500_000);
}
