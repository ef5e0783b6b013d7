/**
 * What a NATS or JetStream failure means, read from nats.js's typed errors (class, JetStream API
 * `err_code`, status code) and never from their message text, except in {@link saysLeaderOrNotReady}.
 * Each check looks through the error's `cause` chain, so that an Eddy error wrapping a NATS failure
 * is classified as the failure it wraps.
 */
import { NoRespondersError, PermissionViolationError, RequestError, TimeoutError as NatsTimeoutError } from "@nats-io/transport-node";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { jserrors, JetStreamStatusError } from "@nats-io/jetstream/internal";
import { EddyError, ErrorCode } from "../core/errors.js";

/**
 * JetStream API errors of a cluster that is busy or electing leaders. "stream not found" is one: right
 * after another process created a replicated bucket, a server of a NATS cluster may not know its
 * stream yet.
 */
const TRANSIENT_API_CODES: ReadonlySet<number> = new Set([
  10004, // incomplete results
  10005, // no suitable peers for placement
  10008, // JetStream system temporarily unavailable
  10009, // JetStream cluster can not handle request (no meta leader)
  10023, // insufficient resources
  JetStreamApiCodes.StreamNotFound,
]);

/** Status codes of a pull request's answer that ask to try again: no responders (503), request timeout (408). */
const TRANSIENT_STATUS_CODES: ReadonlySet<number> = new Set([503, 408]);

/** How deep a cause chain is followed (a chain may loop). */
const MAX_CAUSES = 8;

/** True when `err` or one of its causes satisfies `test`. */
function anyCause(err: unknown, test: (e: unknown) => boolean): boolean {
  let e = err;
  for (let i = 0; i < MAX_CAUSES && e !== undefined && e !== null; i++, e = (e as { cause?: unknown }).cause) {
    if (test(e)) return true;
  }
  return false;
}

function apiCodeIs(err: unknown, ...codes: number[]): boolean {
  return anyCause(err, (e) => e instanceof JetStreamApiError && codes.includes(e.code));
}

/** JetStream answered that the stream does not exist (err_code 10059). */
export function isStreamNotFound(err: unknown): boolean {
  return apiCodeIs(err, JetStreamApiCodes.StreamNotFound);
}

/** JetStream answered that the consumer does not exist (err_code 10014). */
export function isConsumerNotFound(err: unknown): boolean {
  return apiCodeIs(err, JetStreamApiCodes.ConsumerNotFound);
}

/** A failed compare-and-set: a KV `create` of an existing key or `update` at a stale revision (10071, 10164). */
export function isRevisionConflict(err: unknown): boolean {
  return apiCodeIs(err, JetStreamApiCodes.StreamWrongLastSequence, JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

/** Nobody subscribes to the subject asked (core NATS no-responders status). */
export function isNoResponders(err: unknown): boolean {
  return anyCause(err, (e) => e instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders()));
}

/** A NATS request, or a wait of Eddy's own (RpcTimeout), ran out of time. */
export function isTimeout(err: unknown): boolean {
  return anyCause(err, (e) => e instanceof NatsTimeoutError || (e instanceof EddyError && e.code === ErrorCode.RpcTimeout));
}

/** What {@link isTransient} also counts as transient. */
export interface TransientOptions {
  /**
   * JetStream answered before (a store was opened on it): "jetstream is not enabled", which nats.js
   * reports for a JetStream request nobody answers, means a stream without a leader for now (a NATS
   * server of the cluster was lost), not a server without JetStream.
   */
  jetStreamKnown?: boolean;
}

/**
 * True for an error of a NATS server or JetStream that is busy or electing leaders: worth retrying.
 * The outermost NATS error of the cause chain decides (a JetStreamNotEnabled caused by no responders
 * is not the no-responders it wraps).
 */
export function isTransient(err: unknown, opts: TransientOptions = {}): boolean {
  let e = err;
  for (let i = 0; i < MAX_CAUSES && e !== undefined && e !== null; i++, e = (e as { cause?: unknown }).cause) {
    const verdict = transientVerdict(e, opts);
    if (verdict !== undefined) return verdict;
  }
  return false;
}

/** Whether `e` itself is transient; undefined when it is no NATS error (its cause decides). */
function transientVerdict(e: unknown, opts: TransientOptions): boolean | undefined {
  if (e instanceof jserrors.JetStreamNotEnabled) return opts.jetStreamKnown === true && isNoResponders(e.cause);
  if (e instanceof JetStreamApiError) return TRANSIENT_API_CODES.has(e.code) || saysLeaderOrNotReady(e);
  if (e instanceof JetStreamStatusError) return TRANSIENT_STATUS_CODES.has(e.code) || saysLeaderOrNotReady(e);
  if (e instanceof NatsTimeoutError || e instanceof NoRespondersError) return true;
  if (e instanceof RequestError && e.isNoResponders()) return true;
  if (e instanceof EddyError && e.code === ErrorCode.RpcTimeout) return true;
  return undefined;
}

/**
 * The one place that reads a NATS error's text. The server reports several failures of a stream or
 * consumer whose leader is lost or not elected yet with a free-form description ("{err}" in its
 * error table: consumer/stream creation and general RAFT errors, 10012, 10049, 10051, 10041) and
 * status messages (409 "Leadership Change"), whose codes are shared with permanent failures: only
 * their text says that a leader is missing.
 */
function saysLeaderOrNotReady(e: Error): boolean {
  return /leader|not ready/i.test(e.message);
}

/** The server refused the operation to this connection's role (a permissions violation). */
export function isPermissionDenied(err: unknown): boolean {
  return anyCause(err, (e) => e instanceof PermissionViolationError || (e instanceof EddyError && e.code === ErrorCode.PermissionDenied));
}
