/** Which subtask holds a vertex's watermark back (pure: tested without a browser). */

/** At or below: no watermark yet (Flink's Long.MIN_VALUE, as a double). */
export const NO_WATERMARK = -9e15;

/** Per vertex: the subtask with the lowest watermark and max − min over its subtasks. */
export interface Spread {
  slowest: number;
  spread: number;
}

/** The slowest subtask and the spread of `[{"id": "<subtask>.currentInputWatermark", "value"}]`. */
export function watermarkSpread(entries: ReadonlyArray<{ id: string; value: string | number }>): Spread | undefined {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let slowest = -1;
  for (const e of entries) {
    if (!e.id.endsWith(".currentInputWatermark")) continue;
    const v = Number(e.value);
    if (!Number.isFinite(v) || v <= NO_WATERMARK) continue;
    if (v < min) {
      min = v;
      slowest = Number(e.id.slice(0, e.id.indexOf(".")));
    }
    if (v > max) max = v;
  }
  return slowest < 0 ? undefined : { slowest, spread: max - min };
}
