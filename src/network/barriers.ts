/**
 * Checkpoint barriers in the data plane (Flink's asynchronous barrier snapshotting, aligned):
 * the events that travel in-band through subpartitions and input channels, their validation, and
 * {@link barrierForwardingInput}, which turns an input's barrier events into "snapshot, then forward".
 *
 * Producer side: `RecordWriterOutput.broadcastBarrier` flushes and appends the barrier behind every
 * PIPELINED subpartition's data (BLOCKING partitions carry none: batch jobs are not checkpointed).
 * Consumer side: `UnionInput.nextEvent` aligns (alignment.ts) and surfaces one barrier event per
 * checkpoint once every channel delivered it or ended.
 */
import type { RecordInput, RecordOutput } from "../runtime/api.js";
import {
  isBarrierEvent,
  isInputBatch,
  isWatermarkEvent,
  type CheckpointAbortEvent,
  type CheckpointBarrier,
  type InputBatch,
  type InputEvent,
} from "../core/stream-events.js";
import { WatermarkSplitter } from "../core/watermark-marks.js";

/** What {@link barrierForwardingInput} does at a checkpoint. */
export interface BarrierHandler {
  /**
   * Every record before the barrier was processed and none after it: snapshot now. The synchronous
   * part of the call must capture the state; the barrier is forwarded when it returns, and a returned
   * promise is awaited before the next batch is read. Throwing forwards a cancel marker instead and
   * fails the read (catch inside to decline the checkpoint without failing the task).
   */
  onBarrier?(barrier: CheckpointBarrier): void | Promise<void>;
  /** Checkpoint `event.abort` will not complete here; a cancel marker was already forwarded. */
  onAbort?(event: CheckpointAbortEvent): void;
}

/** Inputs whose checkpoint events {@link barrierForwardingInput} can read. */
export type EventSource = Pick<RecordInput, "recycle"> & { nextEvent(): Promise<InputEvent | null> };

/**
 * A RecordInput over `input` for code that reads batches with `next()`: barrier events go to
 * `handler.onBarrier` and then to `output.broadcastBarrier` (so the barrier follows exactly the records
 * emitted before it), abort events to `output.broadcastCancelMarker` and `handler.onAbort`, finite
 * watermarks to `output.emitWatermark`. Outputs
 * without barrier support drop them. `wrap` lets the caller decorate each `nextEvent()` promise
 * (e.g. to reject on abort). The result has no `nextEvent`: its events are handled here.
 */
export function barrierForwardingInput(
  input: EventSource,
  output: Pick<RecordOutput, "broadcastBarrier" | "broadcastCancelMarker" | "emitWatermark">,
  handler: BarrierHandler = {},
  wrap: (p: Promise<InputEvent | null>) => Promise<InputEvent | null> = (p) => p,
): RecordInput {
  const recycle = (b: InputBatch) => input.recycle(b);
  // Watermarks inside a batch are forwarded each after the records before it: the batch goes out in parts.
  const splitter = new WatermarkSplitter();
  const next = async (): Promise<InputBatch | null> => {
    for (;;) {
      let e: InputEvent | null = splitter.next();
      if (e === null) {
        e = await wrap(input.nextEvent());
        if (e !== null && isInputBatch(e)) e = splitter.start(e, recycle);
      }
      if (e === null || isInputBatch(e)) return e;
      if (isWatermarkEvent(e)) {
        if (Number.isFinite(e.watermark)) output.emitWatermark?.(e.watermark);
      } else if (isBarrierEvent(e)) {
        let pending: void | Promise<void>;
        try {
          pending = handler.onBarrier?.(e.barrier);
        } catch (err) {
          output.broadcastCancelMarker?.(e.barrier.checkpointId);
          throw err;
        }
        output.broadcastBarrier?.(e.barrier);
        if (pending) await pending;
      } else {
        output.broadcastCancelMarker?.(e.abort);
        handler.onAbort?.(e);
      }
    }
  };
  return {
    next,
    recycle: (b) => WatermarkSplitter.recycle(b, recycle),
  };
}
