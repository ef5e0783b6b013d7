import { createHash } from "node:crypto";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { ObjectInfo } from "@nats-io/obj";
import { TimeoutError } from "../core/errors.js";
import { sleep, withTimeout } from "../core/time.js";
import { nextBySubject } from "../jetstream/index.js";

/** About how many bytes one pull request asks for (in whole chunks, at most 256 of them). */
const FETCH_BYTES = 8 * 1024 * 1024;
const FETCH_MAX_CHUNKS = 256;
/** How long one pull request waits for its chunks before the next is sent. */
const FETCH_EXPIRES_MS = 2_000;
/** A pull read that got no chunk for this long goes on by message gets. */
const STALL_MS = 3_000;
/** The header a JetStream publish's message id travels in. */
const MSG_ID_HEADER = "Nats-Msg-Id";

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
 * idle heartbeats keep arriving). A pull request is sent only after its reply subscription, so nothing is delivered to
 * nobody; gaps are still found by the ordered consumer (it recreates itself from the last sequence).
 * When the consumer cannot be made or delivers nothing for a while, the read goes on from the last
 * chunk by message gets (first message of the chunk subject after a sequence): slower (base64 in
 * JSON, one request per chunk) but stateless on the server, answered by the stream's current leader.
 * Chunks whose message id names their index (Eddy's writes) are placed by it, in whatever order they
 * were stored; others are taken in stream order.
 *
 * Throws {@link ObjectCorruptError} when the chunks disagree with the info (or one is missing), and
 * TimeoutError when the whole read takes longer than `timeoutMs`.
 */
export async function readObject(js: JetStreamClient, bucket: string, info: ReadableObjectInfo, timeoutMs: number): Promise<Uint8Array> {
  const r = new ChunkReader(bucket, info, timeoutMs);
  if (info.size > 0) {
    try {
      await r.pull(js);
    } catch (err) {
      if (err instanceof ObjectCorruptError) throw err;
      // The consumer could not be created or failed (a NATS server lost): go on by message gets
      // (which give up themselves once the deadline passed).
    }
    if (!r.done) await r.getEach(await js.jetstreamManager());
  }
  return r.result();
}

/**
 * The chunks of one object read so far. A chunk whose message id names its index (`<nuid>.<k>`, as
 * Eddy's writer publishes them) goes to its place, so chunks that landed out of order (a publish
 * retried across a stream leader's loss) still make the object; other objects' chunks (nats.js
 * writes no ids) are taken in stream order. The stream sequence of the last one read is kept for the
 * message-get fallback; the digest is checked over the whole object at the end.
 */
class ChunkReader {
  private readonly out: Uint8Array;
  private readonly deadline: number;
  private readonly subject: string;
  private readonly chunkSize: number;
  private readonly total: number;
  /** Indexed mode: which chunks arrived (by index − 1). */
  private readonly seen: Uint8Array;
  private placed = 0;
  private indexed: boolean | undefined;
  private off = 0;
  private lastSeq = 0;

  constructor(
    private readonly bucket: string,
    private readonly info: ReadableObjectInfo,
    private readonly timeoutMs: number,
  ) {
    this.out = new Uint8Array(info.size);
    this.deadline = Date.now() + timeoutMs;
    this.subject = `$O.${bucket}.C.${info.nuid}`;
    this.chunkSize = info.options?.max_chunk_size ?? 128 * 1024;
    this.total = info.size === 0 ? 0 : Math.ceil(info.size / this.chunkSize);
    this.seen = new Uint8Array(this.total);
  }

  get done(): boolean {
    return this.indexed ? this.placed === this.total : this.off === this.info.size;
  }

  private left(): number {
    const ms = this.deadline - Date.now();
    if (ms <= 0)
      throw new TimeoutError(
        `reading ${this.info.name} from ${this.bucket} timed out after ${this.timeoutMs} ms (${this.indexed ? `${this.placed} of ${this.total} chunks` : `${this.off} of ${this.info.size} bytes`})`,
      );
    return ms;
  }

  /** The chunk's index (1-based) from its message id, when the writer gave it one of this object. */
  private indexOf(msgId: string | undefined): number | undefined {
    if (!msgId?.startsWith(`${this.info.nuid}.`)) return undefined;
    const k = Number(msgId.slice(this.info.nuid.length + 1));
    return Number.isSafeInteger(k) && k >= 1 ? k : undefined;
  }

  private accept(chunk: Uint8Array, seq: number, msgId: string | undefined): void {
    this.lastSeq = seq;
    const k = this.indexOf(msgId);
    this.indexed ??= k !== undefined;
    if (this.indexed !== (k !== undefined)) throw new ObjectCorruptError(`${this.info.name} mixes chunks with and without an index`);
    if (k === undefined) {
      if (this.off + chunk.length > this.out.length) throw new ObjectCorruptError(`${this.info.name} has more than its recorded ${this.info.size} bytes`);
      this.out.set(chunk, this.off);
      this.off += chunk.length;
      return;
    }
    const at = (k - 1) * this.chunkSize;
    const expected = Math.min(this.chunkSize, this.info.size - at);
    if (k > this.total || chunk.length !== expected)
      throw new ObjectCorruptError(`${this.info.name}: chunk ${k} has ${chunk.length} bytes, ${Math.max(0, expected)} expected of chunk ${k} of ${this.total}`);
    if (this.seen[k - 1]) return; // the same chunk twice: the first is kept
    this.seen[k - 1] = 1;
    this.placed++;
    this.out.set(chunk, at);
  }

  /**
   * The fast way: an ordered pull consumer on the chunk subject, in batches. Returns when every
   * chunk arrived, or early when none came for {@link STALL_MS} (on a NATS cluster right after a server
   * returned, a consumer can answer nothing while the stream has the chunks).
   */
  async pull(js: JetStreamClient): Promise<void> {
    const consumer = await withTimeout(
      js.consumers.get(`OBJ_${this.bucket}`, { filter_subjects: this.subject, inactive_threshold: 60_000 }),
      Math.min(this.left(), STALL_MS),
      `creating a consumer to read ${this.info.name}`,
    );
    // max_bytes would end a batch with an error when the next chunk does not fit: ask for chunks instead.
    const chunk = this.info.options?.max_chunk_size ?? 128 * 1024;
    const perFetch = Math.max(1, Math.min(FETCH_MAX_CHUNKS, Math.floor(FETCH_BYTES / chunk)));
    try {
      let lastChunkAt = Date.now();
      while (!this.done && Date.now() - lastChunkAt < STALL_MS) {
        const batch = await consumer.fetch({ max_messages: perFetch, expires: Math.max(1_000, Math.min(this.left(), FETCH_EXPIRES_MS)) });
        for await (const m of batch) {
          this.accept(m.data, m.seq, m.headers?.get(MSG_ID_HEADER));
          lastChunkAt = Date.now();
          if (this.done) break;
        }
      }
    } finally {
      void consumer.delete().catch(() => undefined); // best effort: an ordered consumer is ephemeral and goes away unused
    }
  }

  /** The sure way: each further chunk by a message get (the first of the subject after the last sequence). */
  async getEach(jsm: JetStreamManager): Promise<void> {
    for (let delay = 50; !this.done; ) {
      let m: Awaited<ReturnType<JetStreamManager["streams"]["getMessage"]>>;
      try {
        const query = nextBySubject(this.subject, this.lastSeq + 1);
        m = await withTimeout(jsm.streams.getMessage(`OBJ_${this.bucket}`, query), Math.min(this.left(), STALL_MS), `reading a chunk of ${this.info.name}`);
      } catch {
        // A server lost or a stream electing its leader: retry until the deadline.
        this.left();
        await sleep(delay);
        delay = Math.min(1_000, delay * 2);
        continue;
      }
      if (!m)
        throw new ObjectCorruptError(
          `${this.info.name}: ${this.indexed ? `${this.placed} of ${this.total} chunks` : `${this.off} of ${this.info.size} bytes`} stored`,
        );
      this.accept(m.data, m.seq, m.header?.get(MSG_ID_HEADER));
    }
  }

  result(): Uint8Array {
    const expected = parseDigest(this.info.digest);
    if (!expected || !createHash("sha256").update(this.out).digest().equals(expected))
      throw new ObjectCorruptError(`${this.info.name}: the chunks' SHA-256 does not match the recorded digest ${this.info.digest}`);
    return this.out;
  }
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
