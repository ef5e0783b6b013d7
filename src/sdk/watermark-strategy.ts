/**
 * Flink's WatermarkStrategy for the stream API: where an element's event time comes from (a
 * timestamp assigner reading the element) and how watermarks follow it (bounded out-of-orderness:
 * `max timestamp seen - maxOutOfOrderness - 1`).
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { TimestampAssigner } from "../runtime/streaming/functions.js";

/** A watermark strategy; build it with {@link WatermarkStrategy.forBoundedOutOfOrderness} or {@link WatermarkStrategy.forMonotonousTimestamps}. */
export class WatermarkStrategy<T> {
  private constructor(
    /** How late (ms) an element may be behind the latest one without being late. */
    readonly maxOutOfOrderness: number,
    readonly timestampAssigner: TimestampAssigner<T> | undefined,
    /** Watermarks after every this many elements (0: after each input batch). */
    readonly every = 0,
  ) {}

  /** Watermarks trail the highest timestamp seen by `maxOutOfOrdernessMs` (Flink's BoundedOutOfOrdernessWatermarks). */
  static forBoundedOutOfOrderness<T>(maxOutOfOrdernessMs: number): WatermarkStrategy<T> {
    if (!Number.isSafeInteger(maxOutOfOrdernessMs) || maxOutOfOrdernessMs < 0) {
      throw new ValidationError(ErrorCode.InvalidJobGraph, `maxOutOfOrderness must be an integer >= 0 (ms), got ${maxOutOfOrdernessMs}`);
    }
    return new WatermarkStrategy<T>(maxOutOfOrdernessMs, undefined);
  }

  /** Timestamps never decrease (Flink's AscendingTimestampsWatermarks): out-of-orderness 0. */
  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(0, undefined);
  }

  /** The same strategy, reading event time from elements with `assigner`. */
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    if (typeof assigner !== "function") throw new ValidationError(ErrorCode.InvalidJobGraph, "withTimestampAssigner needs a function (element) => timestamp");
    return new WatermarkStrategy<T>(this.maxOutOfOrderness, assigner, this.every);
  }

  /**
   * Emits the watermark after every `records` elements (when it advanced) instead of after each input
   * batch: watermarks then depend on the elements alone, so which elements are late is the same in
   * every run (behind a non-parallel source). 1 is Flink's punctuated emission.
   */
  emitEvery(records: number): WatermarkStrategy<T> {
    if (!Number.isSafeInteger(records) || records < 1) throw new ValidationError(ErrorCode.InvalidJobGraph, `emitEvery needs an integer >= 1, got ${records}`);
    return new WatermarkStrategy<T>(this.maxOutOfOrderness, this.timestampAssigner, records);
  }
}

/** Durations in ms (Flink's Time). */
export const Time = {
  milliseconds: (n: number): number => n,
  seconds: (n: number): number => n * 1000,
  minutes: (n: number): number => n * 60_000,
  hours: (n: number): number => n * 3_600_000,
} as const;
