/**
 * Domain errors. Every error that crosses a process boundary is an {@link EddyError}
 * with a stable `code`; its `name` selects the class that is rebuilt on the far side.
 */

/** The stable error codes Eddy answers with. Never rename one: clients match on them. */
export const ErrorCode = {
  MalformedRequest: "MalformedRequest",
  PayloadTooLarge: "PayloadTooLarge",
  InvalidJobGraph: "InvalidJobGraph",
  UnknownInvokable: "UnknownInvokable",
  CyclicJobGraph: "CyclicJobGraph",
  DanglingEdge: "DanglingEdge",
  InvalidParallelism: "InvalidParallelism",
  DuplicateJobId: "DuplicateJobId",
  JobNotFound: "JobNotFound",
  JobResultNotReady: "JobResultNotReady",
  JobAlreadyTerminal: "JobAlreadyTerminal",
  JobInitializing: "JobInitializing",
  FencingTokenMismatch: "FencingTokenMismatch",
  NotLeader: "NotLeader",
  UnknownMethod: "UnknownMethod",
  UnknownSender: "UnknownSender",
  SlotNotFound: "SlotNotFound",
  SlotAllocationFailed: "SlotAllocationFailed",
  TaskNotFound: "TaskNotFound",
  IllegalStateTransition: "IllegalStateTransition",
  RpcTimeout: "RpcTimeout",
  NoResponders: "NoResponders",
  ClusterUnreachable: "ClusterUnreachable",
  RecordTooLarge: "RecordTooLarge",
  PartitionNotFound: "PartitionNotFound",
  TaskFailed: "TaskFailed",
  TaskExecutorLost: "TaskExecutorLost",
  Shutdown: "Shutdown",
  InternalError: "InternalError",
  /** A rescale names a vertex the job does not have. */
  VertexNotFound: "VertexNotFound",
  /** A rescale of a job whose scheduler cannot change its parallelism (not the adaptive scheduler). */
  RescaleNotSupported: "RescaleNotSupported",
  /**
   * A task's NATS connection lost its server while it exchanged data with another TaskExecutor: a
   * buffer or credit may be lost (NATS core is at most once), so the task fails and the failover
   * restores it (Flink's RemoteTransportException on a lost TaskManager connection).
   */
  RemoteLinkInterrupted: "RemoteLinkInterrupted",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The plain form of an error on the wire: `{error: WireError}`. */
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
  readonly code: string;
  readonly details?: unknown;
  constructor(code: string, message: string, options?: { cause?: unknown; details?: unknown }) {
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

/** A remote failure whose class is not known locally; keeps the remote name and code. */
export class RemoteError extends EddyError {
  override name = "RemoteError";
}

const registry: Record<string, new (code: string, message: string, o?: { cause?: unknown; details?: unknown }) => EddyError> = {
  EddyError,
  ValidationError,
  NotFoundError,
  ConflictError,
  RemoteError,
};

/** Rebuilds an error received on the wire as its original class where that class is known. */
export function errorFromWire(w: WireError): EddyError {
  let e: EddyError;
  switch (w.name) {
    case "FencingTokenError":
      e = new FencingTokenError(w.message, { details: w.details });
      break;
    case "TimeoutError":
      e = new TimeoutError(w.message, { details: w.details });
      break;
    case "IllegalStateTransitionError": {
      const d = (w.details ?? {}) as { machine?: string; from?: string; event?: string };
      e = new IllegalStateTransitionError(String(d.machine), String(d.from), String(d.event));
      break;
    }
    default: {
      const C = (w.name && registry[w.name]) || RemoteError;
      e = new C(String(w.code), String(w.message), { details: w.details });
      if (C === RemoteError && w.name) (e as { name: string }).name = w.name;
    }
  }
  if (w.stack) e.stack = w.stack;
  return e;
}

/** Any thrown value as an EddyError (unknown errors become InternalError, keeping the cause). */
export function toEddyError(err: unknown): EddyError {
  if (err instanceof EddyError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const e = new EddyError(ErrorCode.InternalError, msg, { cause: err });
  if (err instanceof Error && err.stack) e.stack = err.stack;
  return e;
}

/** A serializable description of a failure, as kept in a JobResult. */
export interface FailureInfo {
  code: string;
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
