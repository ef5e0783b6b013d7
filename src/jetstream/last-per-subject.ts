import { DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import { TimeoutError } from "../core/errors.js";
import { withTimeout } from "../core/time.js";
import { isTransient } from "./transient.js";

/** How long reading the last message of every subject may take, retries included. */
const LIST_TIMEOUT_MS = 30_000;

/**
 * Calls `each` with the last message of every subject of `stream` matching `filter`, read with an
 * ordered pull consumer; `headersOnly` leaves the payloads out. What `kv.keys()` and
 * `ObjectStore.list()` do, without their race: nats.js creates their push consumer before it
 * subscribes, a message the server delivers in between is lost, and the listing then ends early and
 * incomplete at the next idle heartbeat, 30 s later (or never, for an object listing).
 *
 * A listing that fails transiently (the stream electing a leader after a NATS server's loss: the
 * consumer's creation or info times out) is read again from the start; `each` sees only the messages
 * of the attempt that completed. TimeoutError after 30 s.
 */
export async function readLastPerSubject(js: JetStreamClient, stream: string, filter: string, opts: { headersOnly: boolean }, each: (m: JsMsg) => void): Promise<void> {
  const deadline = Date.now() + LIST_TIMEOUT_MS;
  for (let delay = 100; ; delay = Math.min(2_000, delay * 2)) {
    let read: JsMsg[];
    try {
      read = await readOnce(js, stream, filter, opts, deadline);
    } catch (err) {
      if (!isTransient(err, { jetStreamKnown: true }) || Date.now() + delay >= deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
      continue;
    }
    for (const m of read) each(m);
    return;
  }
}

async function readOnce(js: JetStreamClient, stream: string, filter: string, opts: { headersOnly: boolean }, deadline: number): Promise<JsMsg[]> {
  const what = `listing ${filter} in ${stream}`;
  const consumer = await withTimeout(
    js.consumers.get(stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.LastPerSubject, headers_only: opts.headersOnly, inactive_threshold: 60_000 }),
    Math.max(1, deadline - Date.now()),
    what,
  );
  try {
    const out: JsMsg[] = [];
    let pending = (await withTimeout(consumer.info(true), Math.max(1, deadline - Date.now()), what)).num_pending;
    while (pending > 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError(`${what} timed out after ${LIST_TIMEOUT_MS} ms`);
      const batch = await consumer.fetch({ max_messages: 1_000, expires: Math.max(1_000, Math.min(left, 2_000)) });
      for await (const m of batch) {
        out.push(m);
        pending = m.info.pending;
        if (pending === 0) break;
      }
    }
    return out;
  } finally {
    void consumer.delete().catch(() => undefined);
  }
}
