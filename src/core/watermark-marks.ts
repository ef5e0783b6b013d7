/**
 * Watermarks carried inside a buffer or batch ({@link WatermarkMarks}): splitting them with the records
 * when a buffer is halved, checking those that arrive, and handing a batch out as separate elements
 * (records between two watermarks, then the watermark) to readers that take one element at a time.
 */
import { InternalError } from "./errors.js";
import type { InputBatch, WatermarkEvent, WatermarkMarks } from "./stream-events.js";

/**
 * The marks of the first `at` records and of the rest (positions made relative to it); a watermark
 * right at `at` stays with the first part. Either side is undefined when it has none.
 */
export function splitMarks(marks: WatermarkMarks | undefined, at: number): [WatermarkMarks | undefined, WatermarkMarks | undefined] {
  if (marks === undefined) return [undefined, undefined];
  let i = 0;
  while (i < marks.length && marks[i]! <= at) i += 2;
  const rest = marks.slice(i);
  for (let j = 0; j < rest.length; j += 2) rest[j] = rest[j]! - at;
  return [i > 0 ? marks.slice(0, i) : undefined, rest.length > 0 ? rest : undefined];
}

/**
 * Throws InternalError naming `where` unless `marks` are pairs of non-decreasing positions within
 * `records` records and watermarks that are numbers (not NaN).
 */
export function checkMarks(marks: WatermarkMarks, records: number, where: string): void {
  let last = 0;
  for (let i = 0; i < marks.length; i += 2) {
    const at = marks[i]!;
    const w = marks[i + 1];
    if (!Number.isInteger(at) || at < last || at > records || typeof w !== "number" || Number.isNaN(w)) {
      throw new InternalError(`${where}: watermark ${i / 2} (${String(w)} after record ${at}) is out of place in a buffer of ${records} records`);
    }
    last = at;
  }
}

/** Records of a batch between two of its watermarks, handed out as a batch of their own. */
export class BatchPart implements InputBatch {
  readonly gate: number;
  readonly channel: number;
  readonly watermarks = undefined;
  constructor(
    /** The batch this is part of: recycled once its last records were. */
    readonly whole: InputBatch,
    readonly records: unknown[],
    /** Holds the whole batch's last records. */
    readonly last: boolean,
  ) {
    this.gate = whole.gate;
    this.channel = whole.channel;
  }
}

/**
 * Hands out batches one element at a time: a batch without watermarks as it is, a batch with some as
 * its parts — the records before each watermark ({@link BatchPart}), then the watermark — for readers
 * of `next()` and `nextElement()`, which take records and watermarks as separate elements.
 */
export class WatermarkSplitter {
  private whole: InputBatch | null = null;
  private i = 0;
  private from = 0;

  /**
   * Takes `batch`; returns it when it holds no watermarks, else its first part (take the others with
   * {@link next}). A batch of watermarks only is recycled here at once: no part of it will be.
   */
  start(batch: InputBatch, recycle: (b: InputBatch) => void): InputBatch | WatermarkEvent {
    if (batch.watermarks === undefined || batch.watermarks.length === 0) return batch;
    this.whole = batch;
    this.i = 0;
    this.from = 0;
    if (batch.records.length === 0) recycle(batch);
    return this.next()!;
  }

  /** The next part of the batch being split, or null when there is none (any more). */
  next(): InputBatch | WatermarkEvent | null {
    const whole = this.whole;
    if (whole === null) return null;
    const m = whole.watermarks!;
    const records = whole.records;
    const at = this.i < m.length ? m[this.i]! : records.length;
    if (at > this.from) {
      const part = new BatchPart(whole, records.slice(this.from, at), at === records.length);
      this.from = at;
      return part;
    }
    if (this.i < m.length) {
      const watermark = m[this.i + 1]!;
      this.i += 2;
      return { watermark };
    }
    this.whole = null;
    return null;
  }

  /** Recycles `batch`: a part recycles its whole batch when it is the last one with records. */
  static recycle(batch: InputBatch, recycle: (b: InputBatch) => void): void {
    if (!(batch instanceof BatchPart)) recycle(batch);
    else if (batch.last) recycle(batch.whole);
  }
}
