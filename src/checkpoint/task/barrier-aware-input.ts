import type { Logger } from "../../core/logger.js";
import {
  MAX_WATERMARK,
  isBarrierEvent,
  isInputBatch,
  isWatermarkEvent,
  type CheckpointBarrier,
  type InputBatch,
  type RecordInput,
  type StreamElement,
} from "../../runtime/api.js";
import type { BoundOperator } from "./operator-state-binding.js";

/**
 * An operator's input with the checkpoint events taken out, so that the operator sees only records
 * and watermarks: an aligned barrier goes to `onBarrier` (which snapshots the operator and forwards
 * the barrier), a cancel marker goes straight on to the operator's output. Every record or watermark
 * marks the operator dirty (its state may have changed since its last snapshot).
 *
 * `next()` forwards finite watermarks to the operator's output itself; `nextElement()` hands them to
 * the operator (which forwards them) and ends with MAX_WATERMARK before `null`, the final watermark
 * that fires the last timers and windows. An input without `nextEvent` carries no checkpoint events
 * and is returned as it is.
 */
export function barrierAwareInput(op: BoundOperator, input: RecordInput, onBarrier: (b: CheckpointBarrier) => void, log: Logger): RecordInput {
  if (!input.nextEvent) return input;
  const nextEvent = input.nextEvent.bind(input);
  let ended = false;
  const nextElement = async (forward: boolean): Promise<StreamElement | null> => {
    for (;;) {
      if (ended) return null;
      const ev = await nextEvent();
      if (ev === null) {
        ended = true;
        if (forward) return null;
        op.dirty = true; // the final watermark fires timers and windows
        return { watermark: MAX_WATERMARK };
      }
      if (isInputBatch(ev)) {
        op.dirty = true;
        return ev;
      }
      if (isWatermarkEvent(ev)) {
        op.dirty = true; // timers and windows fire on watermarks
        if (!forward) return ev;
        if (Number.isFinite(ev.watermark)) op.output.emitWatermark?.(ev.watermark);
      } else if (isBarrierEvent(ev)) onBarrier(ev.barrier);
      else {
        // Tell the operators downstream at once, so they stop aligning a checkpoint that cannot complete.
        op.output.broadcastCancelMarker?.(ev.abort);
        log.debug({ checkpointId: ev.abort }, "checkpoint aborted during alignment");
      }
    }
  };
  return {
    next: () => nextElement(true) as Promise<InputBatch | null>,
    nextElement: () => nextElement(false),
    recycle: (b) => input.recycle(b),
  };
}
