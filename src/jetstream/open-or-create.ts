import { isPermissionDenied, isStreamNotFound } from "./nats-errors.js";
import { retryTransient } from "./transient.js";

/**
 * Opens a stream-backed asset (bucket, stream), creating it when absent. A role that may not create
 * it (a worker, docs/security.md) waits up to `timeoutMs` for the JobManager to: a stream not found
 * is retried as transient. Looking first means a role that only reads never tries to create.
 */
export async function openOrCreate<T>(open: () => Promise<T>, create: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  try {
    return await open();
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
  }
  try {
    return await retryTransient(create, timeoutMs);
  } catch (err) {
    if (!isPermissionDenied(err)) throw err;
  }
  return retryTransient(open, timeoutMs);
}
