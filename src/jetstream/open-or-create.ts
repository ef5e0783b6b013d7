import { isPermissionDenied, isStreamNotFound } from "./nats-errors.js";
import { retryTransient } from "./transient.js";

/**
 * Opens a stream-backed asset (bucket, stream), creating it when absent. A role that may not create
 * it (a worker, docs/security.md) waits up to `timeoutMs` for the JobManager to: a stream not found
 * is then retried as transient. Looking first means a role that only reads never tries to create;
 * a busy server's timeouts are retried at each step.
 */
export async function openOrCreate<T>(open: () => Promise<T>, create: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const found = await retryTransient(async () => {
    try {
      return { asset: await open() };
    } catch (err) {
      if (isStreamNotFound(err)) return undefined;
      throw err;
    }
  }, timeoutMs);
  if (found) return found.asset;
  try {
    return await retryTransient(create, timeoutMs);
  } catch (err) {
    if (!isPermissionDenied(err)) throw err;
  }
  return retryTransient(open, timeoutMs);
}
