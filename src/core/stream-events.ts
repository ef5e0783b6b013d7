/**
 * The vocabulary of the data stream shared by the network stack and the task runtime: checkpoint
 * barriers and cancel markers as they travel in-band with the records and watermarks as they travel
 * between them (Flink's CheckpointBarrier, CancelCheckpointMarker and Watermark), the events an input surfaces to its task,
 * and the checks a barrier passes before it is sent. It depends on nothing of Eddy's but core, so
 * both sides import it without importing each other.
 */
import { InternalError } from "./errors.js";

/** A batch of records that arrived in one network buffer on one input channel. */
export interface InputBatch {
  /** Index of the input gate (one per consumed IntermediateResult, in TDD order). */
  gate: number;
  /** Channel index within the gate. */
  channel: number;
  records: unknown[];
  /**
   * The watermarks that come between the records (see {@link WatermarkMarks}), in batches of
   * `RecordInput.nextEvent()`; `nextElement()` returns watermarks as elements of their own instead.
   */
  watermarks?: WatermarkMarks | undefined;
}

/**
 * Watermarks inside a buffer or batch, at their places between its records, as flat pairs
 * `[at0, w0, at1, w1, ...]`: watermark `wi` comes after the first `ati` records
 * (`0 <= at0 <= at1 <= ... <= records.length`). A watermark travels in the buffer of the records around
 * it, as Flink serializes its Watermark between the records of a buffer: it does not finish the buffer.
 */
export type WatermarkMarks = number[];

/**
 * Flink's CheckpointBarrier: travels in-band with the records of every PIPELINED channel, after all
 * records that belong to the checkpoint and before all that do not.
 */
export interface CheckpointBarrier {
  /** Increasing per job; a non-negative safe integer. */
  checkpointId: number;
  /** When the checkpoint was triggered (ms since the epoch). */
  timestamp: number;
  kind: BarrierKind;
  /** A stop-with-savepoint's barrier: the sources end after it, and operators are not to drain (Flink's SAVEPOINT_SUSPEND). */
  stop?: true;
}

/** A checkpoint barrier's kind: a periodic checkpoint or a savepoint. */
export type BarrierKind = "CHECKPOINT" | "SAVEPOINT";

/**
 * Thrown out of a source's `ctx.yield()` when the source must end now, right after a
 * stop-with-savepoint barrier (Flink's synchronous savepoint): the runtime ends the source's output
 * normally, so everything downstream drains and the job FINISHES with nothing after the savepoint.
 */
export class EndOfInputSignal extends Error {
  override name = "EndOfInputSignal";
  constructor() {
    super("the source ends after a stop-with-savepoint");
  }
}

/** An input event: every channel delivered barrier `barrier.checkpointId` (or ended): snapshot now. */
export interface BarrierEvent {
  readonly barrier: CheckpointBarrier;
}

/**
 * Why a task's input gave up aligning a checkpoint: a newer barrier arrived first (`SUBSUMED`), or an
 * upstream task canceled it (`CANCELED`, Flink's CancelCheckpointMarker).
 */
export type CheckpointAbortReason = "SUBSUMED" | "CANCELED";

/** An input event: checkpoint `abort` will not complete in this task (no barrier event follows for it). */
export interface CheckpointAbortEvent {
  readonly abort: number;
  readonly reason: CheckpointAbortReason;
}

/**
 * An input event: the task's event-time watermark advanced to `watermark` (Flink's Watermark). It is
 * the minimum over the watermarks of all channels of all gates that have not ended; it only ever
 * increases. {@link MAX_WATERMARK} means no more event time will come (end of input).
 */
export interface WatermarkEvent {
  readonly watermark: number;
}

/** The watermark of the end of input: every event-time timer and window fires (Flink's Watermark.MAX_WATERMARK). */
export const MAX_WATERMARK = Number.POSITIVE_INFINITY;
/** The watermark before any arrived (Flink's Long.MIN_VALUE). */
export const MIN_WATERMARK = Number.NEGATIVE_INFINITY;

/** What {@link RecordInput.nextEvent} returns: a batch of records, a checkpoint event or a watermark. */
export type InputEvent = InputBatch | BarrierEvent | CheckpointAbortEvent | WatermarkEvent;

/** What {@link RecordInput.nextElement} returns: a batch of records or a watermark. */
export type StreamElement = InputBatch | WatermarkEvent;

/** True when `e` is a watermark event. */
export function isWatermarkEvent(e: InputEvent): e is WatermarkEvent {
  return (e as Partial<WatermarkEvent>).watermark !== undefined;
}

/** True when `e` is a batch of records. */
export function isInputBatch(e: InputEvent): e is InputBatch {
  return (e as Partial<InputBatch>).records !== undefined;
}

/** True when `e` is a barrier event. */
export function isBarrierEvent(e: InputEvent): e is BarrierEvent {
  return (e as Partial<BarrierEvent>).barrier !== undefined;
}

/** True when `e` is a checkpoint abort event. */
export function isCheckpointAbortEvent(e: InputEvent): e is CheckpointAbortEvent {
  return (e as Partial<CheckpointAbortEvent>).abort !== undefined;
}

/** A barrier travelling through a subpartition or input channel queue. */
export interface BarrierMarker {
  readonly barrier: CheckpointBarrier;
}

/** A cancel marker travelling through a subpartition or input channel queue (Flink's CancelCheckpointMarker). */
export interface CancelMarker {
  readonly cancel: number;
}

/** The events a PIPELINED channel carries besides records, watermarks (inside its buffers) and its end. */
export type NetworkEvent = BarrierMarker | CancelMarker;

/** A barrier or cancel marker that cannot be sent (malformed, or after the end of data). */
export class BarrierError extends InternalError {
  override name = "BarrierError";
  constructor(message: string, details?: unknown) {
    super(message, details === undefined ? undefined : { details });
  }
}

/** Throws {@link BarrierError} unless `id` is a checkpoint id (a non-negative safe integer). */
export function checkCheckpointId(id: number): void {
  if (!Number.isSafeInteger(id) || id < 0) throw new BarrierError(`checkpoint id ${String(id)} is not a non-negative safe integer`, { checkpointId: id });
}

/** Throws {@link BarrierError} unless `b` is a well-formed barrier. */
export function checkBarrier(b: CheckpointBarrier): void {
  checkCheckpointId(b.checkpointId);
  if (typeof b.timestamp !== "number" || !Number.isFinite(b.timestamp))
    throw new BarrierError(`barrier ${b.checkpointId}: timestamp ${String(b.timestamp)} is not a finite number`);
  if (b.kind !== "CHECKPOINT" && b.kind !== "SAVEPOINT")
    throw new BarrierError(`barrier ${b.checkpointId}: kind ${String(b.kind)} is neither CHECKPOINT nor SAVEPOINT`);
}

/** A plain copy of a barrier (callers may reuse or mutate theirs). */
export function copyBarrier(b: CheckpointBarrier): CheckpointBarrier {
  return b.stop
    ? { checkpointId: b.checkpointId, timestamp: b.timestamp, kind: b.kind, stop: true }
    : { checkpointId: b.checkpointId, timestamp: b.timestamp, kind: b.kind };
}
