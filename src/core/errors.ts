/**
 * Domain errors. Every error that crosses a process boundary is an {@link EddyError}
 * with a stable `code`; its `name` selects the class that is rebuilt on the far side.
 */

import { errorCodeOr, isErrorCode, ErrorCode } from "./error-codes.js";

export { ERROR_CODE_DESCRIPTIONS, ErrorCode, errorCodeOr, isErrorCode } from "./error-codes.js";

/**
 * The plain form of an error on the wire: `{error: WireError}`. `code` is a string because a peer
 * of another version may send a code this one does not know; {@link errorFromWire} checks it.
 */
export interface WireError {
  code: string;
  message: string;
  name?: string;
  details?: unknown;
  stack?: string;
}

/** Base of every Eddy error: a stable code, a message that says what to fix, an optional cause. */
export class EddyError extends Error {
  override name = "EddyError";
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.details !== undefined) this.details = options.details;
  }
  /** The wire form of this error. */
  toWire(withStack = false): WireError {
    const w: WireError = { code: this.code, message: this.message, name: this.name };
    if (this.details !== undefined) w.details = this.details;
    if (withStack && this.stack) w.stack = this.stack;
    return w;
  }
}

/** Input that does not satisfy a schema or a rule; nothing was changed. */
export class ValidationError extends EddyError {
  override name = "ValidationError";
}

/** A message carried a missing or stale fencing token and never reached its handler. */
export class FencingTokenError extends EddyError {
  override name = "FencingTokenError";
  constructor(message: string, options?: { cause?: unknown; details?: unknown }) {
    super(ErrorCode.FencingTokenMismatch, message, options);
  }
}

/** Something addressed by id (job, slot, task) does not exist here. */
export class NotFoundError extends EddyError {
  override name = "NotFoundError";
}

/** A wait ran out of time. */
export class TimeoutError extends EddyError {
  override name = "TimeoutError";
  constructor(message: string, options?: { cause?: unknown; details?: unknown }) {
    super(ErrorCode.RpcTimeout, message, options);
  }
}

/** A state machine was asked for a transition that its table does not have. */
export class IllegalStateTransitionError extends EddyError {
  override name = "IllegalStateTransitionError";
  constructor(machine: string, from: string, event: string) {
    super(ErrorCode.IllegalStateTransition, `${machine}: no transition from ${from} on ${event}`, {
      details: { machine, from, event },
    });
  }
}

/** The request is well formed but refused in the current state (duplicate, already terminal...). */
export class ConflictError extends EddyError {
  override name = "ConflictError";
}

/**
 * A failure inside Eddy that no request could have avoided (a broken invariant, a malformed frame
 * from a peer, a lost buffer): code InternalError, logged with its stack where it is answered.
 */
export class InternalError extends EddyError {
  override name = "InternalError";
  constructor(message: string, options?: { cause?: unknown; details?: unknown }) {
    super(ErrorCode.InternalError, message, options);
  }
}

/**
 * A remote failure whose class is not known locally; keeps the remote name. A code this version does
 * not know (a newer peer's) becomes InternalError, the peer's own string kept in `peerCode`, so that
 * `code` is always one of {@link ErrorCode} and callers can switch on it.
 */
export class RemoteError extends EddyError {
  override name = "RemoteError";
  /** The code the peer sent when it is not one of this version's codes. */
  peerCode?: string;
}

type ErrorClass = new (code: ErrorCode, message: string, o?: { cause?: unknown; details?: unknown }) => EddyError;
const registry = new Map<string, ErrorClass>([
  ["EddyError", EddyError],
  ["ValidationError", ValidationError],
  ["NotFoundError", NotFoundError],
  ["ConflictError", ConflictError],
  ["RemoteError", RemoteError],
]);

/**
 * Rebuilds an error received on the wire as its original class where that class is known. Never
 * throws, whatever a peer sent: a code this version does not know becomes InternalError with the
 * peer's string in {@link RemoteError.peerCode}; a body that is no error at all, an InternalError
 * saying so.
 */
export function errorFromWire(wire: unknown): EddyError {
  if (typeof wire !== "object" || wire === null) return new InternalError(`malformed error from a peer: ${describe(wire)}`);
  const w = wire as Partial<Record<keyof WireError, unknown>>;
  const message = typeof w.message === "string" ? w.message : describe(w.message);
  const name = typeof w.name === "string" ? w.name : undefined;
  const options = w.details === undefined ? undefined : { details: w.details };
  const known = isErrorCode(w.code);
  let e: EddyError;
  if (name === "FencingTokenError") e = new FencingTokenError(message, options);
  else if (name === "TimeoutError") e = new TimeoutError(message, options);
  else if (name === "InternalError") e = new InternalError(message, options);
  else if (name === "IllegalStateTransitionError") {
    const d = (typeof w.details === "object" && w.details !== null ? w.details : {}) as { machine?: unknown; from?: unknown; event?: unknown };
    e = new IllegalStateTransitionError(String(d.machine), String(d.from), String(d.event));
  } else {
    const C = (known && name !== undefined && registry.get(name)) || RemoteError;
    e = new C(errorCodeOr(w.code), message, options);
    if (C === RemoteError && name) (e as { name: string }).name = name;
    if (!known) (e as RemoteError).peerCode = describe(w.code);
  }
  if (typeof w.stack === "string") e.stack = w.stack;
  return e;
}

function describe(v: unknown): string {
  return typeof v === "string" ? v : (JSON.stringify(v) ?? String(v)).slice(0, 200);
}

/** Any thrown value as an EddyError (unknown errors become InternalError, keeping the cause). */
export function toEddyError(err: unknown): EddyError {
  if (err instanceof EddyError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const e = new InternalError(msg, { cause: err });
  if (err instanceof Error && err.stack) e.stack = err.stack;
  return e;
}

/** A serializable description of a failure, as kept in a JobResult. */
export interface FailureInfo {
  code: ErrorCode;
  name: string;
  message: string;
  stack?: string;
}

/** Flattens any error into a {@link FailureInfo}. */
export function failureInfo(err: unknown): FailureInfo {
  const e = toEddyError(err);
  const f: FailureInfo = { code: e.code, name: e.name, message: e.message };
  if (e.stack) f.stack = e.stack;
  return f;
}
