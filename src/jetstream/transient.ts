/**
 * Errors of a JetStream that is busy or electing leaders (a cluster starting, a server gone): worth
 * retrying. "stream not found" too: right after another process created a replicated bucket, a
 * server of a NATS cluster may not know its stream yet (a TaskExecutor once exited on it at start).
 */
const TRANSIENT = /timeout|timed out|no responders|503|temporarily unavailable|not ready|no suitable peers|insufficient resources|leader|stream not found/i;

/**
 * Runs a JetStream call (creating a bucket or stream, a publish, a read), retrying transient
 * failures with backoff for up to `totalMs`: on a NATS cluster, creating replicated streams while the
 * cluster starts or several processes create the same ones, and any call while a replicated stream
 * elects its leader after a server's loss, can exceed one request's timeout. Only idempotent calls
 * (or publishes with a message id) belong here: a failed attempt may still have taken effect.
 */
export async function retryTransient<T>(fn: () => Promise<T>, totalMs = 30_000, opts: TransientOptions = {}): Promise<T> {
  const deadline = Date.now() + totalMs;
  for (let delay = 100; ; delay = Math.min(2_000, delay * 2)) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err, opts) || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** What {@link isTransient} also counts as transient. */
export interface TransientOptions {
  /**
   * JetStream answered before (a store was opened on it): "jetstream is not enabled", which nats.js
   * reports for a publish nobody answers, means a stream without a leader for now (a NATS server of
   * the cluster was lost), not a server without JetStream.
   */
  jetStreamKnown?: boolean;
}

/** True for an error of a JetStream that is busy or electing leaders: worth retrying. */
export function isTransient(err: unknown, opts: TransientOptions = {}): boolean {
  const msg = (err as Error)?.message ?? String(err);
  return TRANSIENT.test(msg) || (opts.jetStreamKnown === true && /jetstream is not enabled/i.test(msg));
}
