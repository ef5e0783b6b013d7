import { isTransient, type TransientOptions } from "./nats-errors.js";

/**
 * Runs a JetStream call (creating a bucket or stream, a publish, a read), retrying transient
 * failures ({@link isTransient}) with backoff for up to `totalMs`: on a NATS cluster, creating
 * replicated streams while the cluster starts or several processes create the same ones, and any
 * call while a replicated stream elects its leader after a server's loss, can exceed one request's
 * timeout. Only idempotent calls (or publishes with a message id) belong here: a failed attempt may
 * still have taken effect.
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
