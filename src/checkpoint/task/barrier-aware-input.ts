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
import { WatermarkSplitter } from "../../core/watermark-marks.js";
import type { BoundOperator } from "./operator-state-binding.js";

/**
 * An operator's input with the checkpoint events taken out, so that the operator sees only records
 * and watermarks: an aligned barrier goes to `onBarrier` (which snapshots the operator and forwards
 * the barrier), a cancel marker goes straight on to the operator's output. Every record or watermark
 * marks the operator dirty (its state may have changed since its last snapshot).
 *
 * `nextMarkedElement()` hands out batches as they come, with the watermarks inside them, and
 * `nextElement()` the same one element at a time (a batch with watermarks in parts: the records before
 * each watermark, then the watermark); both end with MAX_WATERMARK before `null`, the final watermark
 * that fires the last timers and windows. `next()` forwards finite watermarks to the operator's output
 * itself, each after the records before it. An input without `nextEvent` carries no checkpoint events
 * and is returned as it is.
 */
export function barrierAwareInput(op: BoundOperator, input: RecordInput, onBarrier: (b: CheckpointBarrier) => void, log: Logger): RecordInput {
  if (!input.nextEvent) return input;
  const nextEvent = input.nextEvent.bind(input);
  const recycle = (b: InputBatch) => input.recycle(b);
  let ended = false;
  /** The next batch (as it came) or watermark; at the end MAX_WATERMARK, unless `forwarding` (next() has no use for it). */
  const take = async (forwarding: boolean): Promise<StreamElement | null> => {
    for (;;) {
      if (ended) return null;
      const ev = await nextEvent();
      if (ev === null) {
        ended = true;
        if (forwarding) return null;
        op.dirty = true; // the final watermark fires timers and windows
        return { watermark: MAX_WATERMARK };
      }
      if (isInputBatch(ev) || isWatermarkEvent(ev)) {
        op.dirty = true; // timers and windows fire on watermarks
        return ev;
      }
      if (isBarrierEvent(ev)) onBarrier(ev.barrier);
      else {
        // Tell the operators downstream at once, so they stop aligning a checkpoint that cannot complete.
        op.output.broadcastCancelMarker?.(ev.abort);
        log.debug({ checkpointId: ev.abort }, "checkpoint aborted during alignment");
      }
    }
  };
  const splitter = new WatermarkSplitter();
  const split = (e: StreamElement | null): StreamElement | null => (e === null || isWatermarkEvent(e) ? e : splitter.start(e, recycle));
  const nextElement = (): Promise<StreamElement | null> => {
    const part = splitter.next();
    return part !== null ? Promise.resolve(part) : take(false).then(split);
  };
  const next = async (): Promise<InputBatch | null> => {
    for (;;) {
      const e = splitter.next() ?? split(await take(true));
      if (e === null || !isWatermarkEvent(e)) return e;
      if (Number.isFinite(e.watermark)) op.output.emitWatermark?.(e.watermark);
    }
  };
  return {
    next,
    nextElement,
    nextMarkedElement: () => take(false),
    recycle: (b) => WatermarkSplitter.recycle(b, recycle),
  };
}
