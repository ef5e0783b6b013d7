/**
 * Event-time window assigners (Flink's TumblingEventTimeWindows, SlidingEventTimeWindows,
 * EventTimeSessionWindows) as plain data, so a JobGraph can carry them in a vertex config, and the
 * window arithmetic the window operator uses.
 */
import { ErrorCode, ValidationError } from "../../core/errors.js";
import type { TimeWindow } from "./functions.js";

/** A window assigner, as data. Sizes, slides, offsets and gaps in ms. */
export type WindowAssignerSpec =
  | { kind: "tumbling"; size: number; offset?: number }
  | { kind: "sliding"; size: number; slide: number; offset?: number }
  | { kind: "session"; gap: number };

/** The last timestamp that belongs to `w` (Flink's TimeWindow.maxTimestamp). */
export function maxTimestamp(w: TimeWindow): number {
  return w.end - 1;
}

/** Flink's TimeWindow.getWindowStartWithOffset. */
export function windowStart(timestamp: number, offset: number, size: number): number {
  const r = (timestamp - offset) % size;
  return timestamp - (r < 0 ? r + size : r);
}

/** A tumbling or sliding window assigner: windows of a fixed size. */
export type FixedWindowAssignerSpec = Exclude<WindowAssignerSpec, { kind: "session" }>;

/**
 * The latest start of a window of `spec` that `timestamp` belongs to; the others start every
 * {@link windowStep} earlier, while `start > timestamp - spec.size`. The window operator walks a
 * time's windows so, without a callback: each number handed to a function that is not inlined is a
 * new heap number, and event times are beyond V8's small integers.
 */
export function latestWindowStart(spec: FixedWindowAssignerSpec, timestamp: number): number {
  return windowStart(timestamp, spec.offset ?? 0, windowStep(spec));
}

/** How far apart the starts of the windows of one time are (a tumbling window is the only one: its size). */
export function windowStep(spec: FixedWindowAssignerSpec): number {
  return spec.kind === "tumbling" ? spec.size : spec.slide;
}

/** Calls `fn(start, end)` for every window `timestamp` belongs to (latest start first for sliding). */
export function assignWindows(spec: WindowAssignerSpec, timestamp: number, fn: (start: number, end: number) => void): void {
  if (spec.kind === "session") {
    fn(timestamp, timestamp + spec.gap);
    return;
  }
  const step = windowStep(spec);
  for (let start = latestWindowStart(spec, timestamp); start > timestamp - spec.size; start -= step) fn(start, start + spec.size);
}

/** True when two windows overlap or touch (Flink's TimeWindow.intersects, which session merging uses). */
export function intersects(a: TimeWindow, b: TimeWindow): boolean {
  return a.start <= b.end && a.end >= b.start;
}

function positiveInt(v: unknown, what: string, min = 1): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new ValidationError(ErrorCode.InvalidJobGraph, `${what} must be an integer >= ${min} (ms), got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

/** Checks a window assigner spec (from a vertex config); throws ValidationError InvalidJobGraph. */
export function checkWindowAssigner(v: unknown, where: string): WindowAssignerSpec {
  if (typeof v !== "object" || v === null) throw new ValidationError(ErrorCode.InvalidJobGraph, `${where} must be a window assigner {kind, size, ...}`);
  const o = v as Record<string, unknown>;
  switch (o.kind) {
    case "tumbling": {
      const size = positiveInt(o.size, `${where}.size`);
      const offset = o.offset === undefined ? 0 : positiveInt(o.offset, `${where}.offset`, 0);
      if (offset >= size) throw new ValidationError(ErrorCode.InvalidJobGraph, `${where}.offset must be smaller than the size`);
      return { kind: "tumbling", size, offset };
    }
    case "sliding": {
      const size = positiveInt(o.size, `${where}.size`);
      const slide = positiveInt(o.slide, `${where}.slide`);
      const offset = o.offset === undefined ? 0 : positiveInt(o.offset, `${where}.offset`, 0);
      if (offset >= slide) throw new ValidationError(ErrorCode.InvalidJobGraph, `${where}.offset must be smaller than the slide`);
      if (size / slide > 10_000)
        throw new ValidationError(ErrorCode.InvalidJobGraph, `${where}: size/slide is ${size / slide}; an element would be in more than 10000 windows`);
      return { kind: "sliding", size, slide, offset };
    }
    case "session":
      return { kind: "session", gap: positiveInt(o.gap, `${where}.gap`) };
    default:
      throw new ValidationError(ErrorCode.InvalidJobGraph, `${where}.kind must be "tumbling", "sliding" or "session", got ${JSON.stringify(o.kind)}`);
  }
}
