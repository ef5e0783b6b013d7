/**
 * What a stream's leader holds, for checking a listing made with a consumer. An ephemeral consumer
 * of a replicated stream reads the replica of the server it is placed on, which nats-server picks at
 * random among the stream's peers: a replica behind its leader (for a while after a partition or a
 * server's restart) gives a listing short of keys or objects. The stream-info and message-get
 * requests are answered by the stream leader, so a listing completed with them misses nothing the
 * leader had when the listing ended.
 */
import type { JetStreamManager, MsgRequest, StoredMsg } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import { retryTransient } from "./transient.js";

/** How long one request to the leader is retried while the stream elects one. */
const LEADER_RETRY_MS = 30_000;

/** A message of a listing: one delivered by a consumer, or one read from the stream leader. */
export interface ListedMessage {
  readonly subject: string;
  readonly seq: number;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
  json<T>(): T;
}

/** The subjects of `stream` matching `filter` with their message counts, as the stream leader has them. */
export async function subjectsAtLeader(jsm: JetStreamManager, stream: string, filter: string): Promise<Map<string, number>> {
  const info = await retryTransient(() => jsm.streams.info(stream, { subjects_filter: filter }), LEADER_RETRY_MS, { jetStreamKnown: true });
  return new Map(Object.entries(info.state.subjects ?? {}));
}

/**
 * Completes a last-per-subject listing with the leader's view: a subject the leader has and the
 * listing missed is read from the leader; a listed subject the leader no longer has is dropped.
 */
export async function lastPerSubjectAtLeader(
  jsm: JetStreamManager,
  stream: string,
  filter: string,
  listed: readonly ListedMessage[],
): Promise<ListedMessage[]> {
  const counts = await subjectsAtLeader(jsm, stream, filter);
  const out: ListedMessage[] = [];
  const seen = new Set<string>();
  for (const m of listed) {
    if (!counts.has(m.subject)) continue;
    out.push(m);
    seen.add(m.subject);
  }
  for (const subject of counts.keys()) {
    if (seen.has(subject)) continue;
    const m = await getAtLeader(jsm, stream, { last_by_subj: subject });
    if (m) out.push(m);
  }
  return out;
}

/**
 * Completes a listing of every message's sequence with the leader's view: for each subject of
 * which the leader has more messages than were listed, every sequence of it is read from the leader.
 * A listed sequence the leader no longer has stays (deleting it again finds nothing).
 */
export async function sequencesAtLeader(jsm: JetStreamManager, stream: string, filter: string, listed: readonly ListedMessage[]): Promise<number[]> {
  const counts = await subjectsAtLeader(jsm, stream, filter);
  const bySubject = new Map<string, number[]>();
  for (const m of listed) {
    const seqs = bySubject.get(m.subject);
    if (seqs) seqs.push(m.seq);
    else bySubject.set(m.subject, [m.seq]);
  }
  for (const [subject, count] of counts) {
    if ((bySubject.get(subject)?.length ?? 0) >= count) continue;
    const seqs: number[] = [];
    for (let m = await getAtLeader(jsm, stream, nextBySubject(subject, 1)); m; m = await getAtLeader(jsm, stream, nextBySubject(subject, m.seq + 1)))
      seqs.push(m.seq);
    bySubject.set(subject, seqs);
  }
  return [...bySubject.values()].flat().sort((a, b) => a - b);
}

/** A message get answered by the stream leader (not a direct get, which any replica may answer). */
async function getAtLeader(jsm: JetStreamManager, stream: string, query: MsgRequest): Promise<ListedMessage | undefined> {
  const m = await retryTransient(() => jsm.streams.getMessage(stream, query), LEADER_RETRY_MS, { jetStreamKnown: true });
  return m ? fromStored(m) : undefined;
}

/** A message get of the first message of `subject` at or after `seq` (nats.js's request type lacks `next_by_subj`, which nats-server 2.9 answers). */
export const nextBySubject = (subject: string, seq: number) => ({ seq, next_by_subj: subject }) as MsgRequest;

function fromStored(m: StoredMsg): ListedMessage {
  return { subject: m.subject, seq: m.seq, headers: m.header, data: m.data, json: <T>() => m.json<T>() };
}
