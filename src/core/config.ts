/** Process-wide settings resolved from flags and environment (docs/cli.md). */
import { ErrorCode, ValidationError } from "./errors.js";

/** Default NATS URL when neither `--nats` nor `EDDY_NATS_URL` is given. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** `--nats URL`, else `EDDY_NATS_URL`, else the default. */
export function resolveNatsUrl(flag?: string): string {
  return flag || process.env.EDDY_NATS_URL || DEFAULT_NATS_URL;
}

/** Subject prefix: `EDDY_PREFIX` or `eddy`. Two clusters can share one NATS with different prefixes. */
export function resolvePrefix(): string {
  const p = process.env.EDDY_PREFIX || "eddy";
  if (!/^[A-Za-z0-9_-]+$/.test(p)) throw new ValidationError(ErrorCode.MalformedRequest, `EDDY_PREFIX must match [A-Za-z0-9_-]+, got ${JSON.stringify(p)}`);
  return p;
}

/** Limits applied to everything a client sends. */
export const Limits = {
  /** Largest request body any actor accepts (bytes); larger ones get PayloadTooLarge. */
  maxRequestBytes: Number(process.env.EDDY_MAX_REQUEST_BYTES ?? 1024 * 1024),
  /** Highest parallelism a vertex may ask for. */
  maxParallelism: 32768,
  /** Most vertices a JobGraph may hold. */
  maxVertices: 1000,
  /** Most edges a JobGraph may hold. */
  maxEdges: 5000,
} as const;

/** Timeouts and intervals (ms). */
export const Timeouts = {
  rpc: 10_000,
  heartbeatInterval: 1_000,
  heartbeatTimeout: 10_000,
  registrationRetry: 500,
  slotRequest: 60_000,
} as const;
