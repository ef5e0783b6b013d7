import { randomBytes, randomUUID } from "node:crypto";

/** A Flink-style 32 hex digit id (JobID, ExecutionAttemptID, AllocationID...). */
export function newId(): string {
  return randomBytes(16).toString("hex");
}

/** A fencing token / leader session id: a random (v4) UUID. */
export function newSessionId(): string {
  return randomUUID();
}

/** True for a 32 hex digit id. */
export function isId(s: unknown): s is string {
  return typeof s === "string" && /^[0-9a-f]{32}$/.test(s);
}

/**
 * A user function's ref (`<vertex id>#<slot>`, see the SDK's stream graph): how job graphs, task
 * configs and edges name a function of the job's shipped code.
 */
export const USER_FUNCTION_REF = /^[A-Za-z0-9_.#:/-]{1,200}$/;
