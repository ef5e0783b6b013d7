/**
 * Deleting stream messages one by one, by sequence: the one way of removing messages from Eddy's
 * replicated streams that every supported nats-server replays exactly. A filtered purge (the
 * `$JS.API.STREAM.PURGE` request with a `filter`, `keep` or `seq`) is not: nats-server up to 2.9.17
 * replays it, on a replica that recovers its Raft log, as "remove every message up to the purge",
 * whatever its subject (docs/high-availability.md, "NATS server 2.9 and purges").
 */
import type { JetStreamManager } from "@nats-io/jetstream";
import { isTransient } from "./nats-errors.js";
import { retryTransient } from "./transient.js";

/** How long one deletion is retried while the stream has no leader, ms. */
const DELETE_RETRY_MS = 30_000;

/**
 * Deletes the message at `seq` of `stream` (without overwriting its bytes on disk). True when it
 * deleted it, false when there was none (deleted before, or the attempt before a retry did).
 * Retried while the stream elects a leader; other failures are thrown.
 */
export async function deleteMessage(jsm: JetStreamManager, stream: string, seq: number, totalMs = DELETE_RETRY_MS): Promise<boolean> {
  return retryTransient(
    async () => {
      try {
        return await jsm.streams.deleteMessage(stream, seq, false);
      } catch (err) {
        if (isTransient(err, { jetStreamKnown: true })) throw err;
        // The server reports a missing message as a generic deletion failure (its text the only
        // tell): a message get that finds nothing at `seq` says it is gone.
        if ((await jsm.streams.getMessage(stream, { seq })) === null) return false;
        throw err;
      }
    },
    totalMs,
    { jetStreamKnown: true },
  );
}

/**
 * Deletes the messages at `seqs` of `stream` ({@link deleteMessage}) one after the other, oldest
 * first; answers how many were there. Stops at the first failure (call again).
 *
 * Oldest first, because nats-server 2.9.10 keeps a subject's last sequence in its index unchanged when
 * the newest of several messages of that subject is removed: the index then names a message that is
 * gone, and a last-per-subject consumer (every listing of keys and objects) counts it as pending and
 * never delivers it. Removing the oldest message of a subject updates the index correctly.
 */
export async function deleteMessages(jsm: JetStreamManager, stream: string, seqs: Iterable<number>, totalMs = DELETE_RETRY_MS): Promise<number> {
  let deleted = 0;
  for (const seq of [...seqs].sort((a, b) => a - b)) if (await deleteMessage(jsm, stream, seq, totalMs)) deleted++;
  return deleted;
}
