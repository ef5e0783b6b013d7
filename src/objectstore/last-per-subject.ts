import { DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import { TimeoutError } from "../core/errors.js";
import { withTimeout } from "../core/time.js";

/** How long reading the last message of every subject may take. */
const LIST_TIMEOUT_MS = 15_000;

/**
 * Calls `each` with the last message of every subject of `stream` matching `filter`, read with an
 * ordered pull consumer; `headersOnly` leaves the payloads out. What `kv.keys()` and
 * `ObjectStore.list()` do, without their race: nats.js creates their push consumer before it
 * subscribes, a message the server delivers in between is lost, and the listing then ends early and
 * incomplete at the next idle heartbeat, 30 s later (or never, for an object listing). TimeoutError
 * after 15 s.
 */
export async function readLastPerSubject(js: JetStreamClient, stream: string, filter: string, opts: { headersOnly: boolean }, each: (m: JsMsg) => void): Promise<void> {
  const deadline = Date.now() + LIST_TIMEOUT_MS;
  const consumer = await withTimeout(
    js.consumers.get(stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.LastPerSubject, headers_only: opts.headersOnly, inactive_threshold: 60_000 }),
    LIST_TIMEOUT_MS,
    `listing ${filter} in ${stream}`,
  );
  try {
    let pending = (await consumer.info(true)).num_pending;
    while (pending > 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError(`listing ${filter} in ${stream} timed out after ${LIST_TIMEOUT_MS} ms`);
      const batch = await consumer.fetch({ max_messages: 1_000, expires: Math.max(1_000, Math.min(left, 2_000)) });
      for await (const m of batch) {
        each(m);
        pending = m.info.pending;
        if (pending === 0) break;
      }
    }
  } finally {
    void consumer.delete().catch(() => undefined);
  }
}
