import { DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import { TimeoutError } from "../core/errors.js";
import { withTimeout } from "../core/time.js";
import { isConsumerNotFound, isTransient } from "./nats-errors.js";
import { lastPerSubjectAtLeader, sequencesAtLeader, type ListedMessage } from "./leader-view.js";

/** How long reading the last message of every subject may take, retries included. */
const LIST_TIMEOUT_MS = 30_000;
/** How long one attempt's consumer creation may take before the attempt is made again. */
const ATTEMPT_STEP_MS = 8_000;
/** How long a fetch may deliver nothing while messages are pending before the attempt is made again. */
const FETCH_STALL_MS = 2_000;

/**
 * Calls `each` with the last message of every subject of `stream` matching `filter`, read with an
 * ordered pull consumer; `headersOnly` leaves the payloads out. What `kv.keys()` and
 * `ObjectStore.list()` do, without their race: nats.js creates their push consumer before it
 * subscribes, a message the server delivers in between is lost, and the listing then ends early and
 * incomplete at the next idle heartbeat, 30 s later (or never, for an object listing).
 *
 * A listing that fails transiently is read again from the start with a new consumer: the stream
 * electing a leader after a NATS server's loss makes the consumer's creation time out, or leaves a
 * consumer made on the lost leader that delivers nothing or is not found. `each` sees only the messages of
 * the attempt that completed. TimeoutError after 30 s, naming the last attempt's failure.
 *
 * The consumer reads one replica, which may lag behind the stream leader: the listing is then
 * completed from the leader (src/jetstream/leader-view.ts), and names every subject the leader has.
 * A message read from the leader carries its payload even when `headersOnly`.
 */
export async function readLastPerSubject(
  js: JetStreamClient,
  stream: string,
  filter: string,
  opts: { headersOnly: boolean },
  each: (m: ListedMessage) => void,
): Promise<void> {
  const read = await readMatching(js, stream, filter, { ...opts, lastPerSubject: true });
  for (const m of await lastPerSubjectAtLeader(await js.jetstreamManager(false), stream, filter, read)) each(m);
}

/**
 * The stream sequence of every message of `stream` matching `filter` (every one, not only the last
 * of each subject), ascending, read as {@link readLastPerSubject} reads (headers only, retried,
 * completed from the stream leader).
 */
export async function sequencesOf(js: JetStreamClient, stream: string, filter: string): Promise<number[]> {
  const read = await readMatching(js, stream, filter, { headersOnly: true, lastPerSubject: false });
  return sequencesAtLeader(await js.jetstreamManager(false), stream, filter, read);
}

interface ReadOptions {
  headersOnly: boolean;
  /** Only the last message of each subject; else every message. */
  lastPerSubject: boolean;
}

async function readMatching(js: JetStreamClient, stream: string, filter: string, opts: ReadOptions): Promise<JsMsg[]> {
  const what = `listing ${filter} in ${stream}`;
  const deadline = Date.now() + LIST_TIMEOUT_MS;
  for (let attempt = 1, delay = 100; ; attempt++, delay = Math.min(2_000, delay * 2)) {
    let read: JsMsg[];
    try {
      read = await readOnce(js, stream, filter, opts, what, deadline);
    } catch (err) {
      // "consumer not found": the consumer was made on a stream leader that is gone.
      if (!isTransient(err, { jetStreamKnown: true }) && !isConsumerNotFound(err)) throw err;
      if (Date.now() + delay >= deadline) {
        throw new TimeoutError(`${what} did not complete in ${LIST_TIMEOUT_MS} ms (${attempt} attempts; the last: ${(err as Error)?.message ?? err})`, {
          cause: err,
        });
      }
      await new Promise((r) => setTimeout(r, delay));
      continue;
    }
    return read;
  }
}

async function readOnce(js: JetStreamClient, stream: string, filter: string, opts: ReadOptions, what: string, deadline: number): Promise<JsMsg[]> {
  const step = () => Math.max(1, Math.min(ATTEMPT_STEP_MS, deadline - Date.now()));
  const consumer = await withTimeout(
    js.consumers.get(stream, {
      filter_subjects: filter,
      deliver_policy: opts.lastPerSubject ? DeliverPolicy.LastPerSubject : DeliverPolicy.All,
      headers_only: opts.headersOnly,
      inactive_threshold: 60_000,
    }),
    step(),
    `creating the consumer for ${what}`,
  );
  try {
    // Last per subject: by subject, the message of the highest stream sequence (an ordered consumer
    // that sees a gap is made again from the next sequence, no longer last-per-subject, and delivers
    // older messages). Every message: by sequence (a message delivered again counts once).
    const out = new Map<string | number, JsMsg>();
    let pending = (await consumer.info(true)).num_pending; // the creation's info: no request
    while (pending > 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError(`${what} timed out after ${LIST_TIMEOUT_MS} ms`);
      const batch = await consumer.fetch({ max_messages: 1_000, expires: Math.max(1_000, Math.min(left, FETCH_STALL_MS)) });
      let got = 0;
      for await (const m of batch) {
        got++;
        const by = opts.lastPerSubject ? m.subject : m.seq;
        const seen = out.get(by);
        if (!seen || seen.seq < m.seq) out.set(by, m);
        pending = m.info.pending;
        if (pending === 0) break;
      }
      if (got === 0) throw new TimeoutError(`${what} timed out: a fetch delivered nothing with ${pending} pending`);
    }
    return [...out.values()];
  } finally {
    void consumer.delete().catch(() => undefined); // best effort: an ordered consumer is ephemeral and goes away unused
  }
}
