/**
 * Flink's duration syntax (TimeUtils.parseDuration): a whole number, optional blanks, and an optional
 * unit (`500ms`, `2 s`, `1min`, `1 h`); a plain number is milliseconds. Units as Flink spells them,
 * in any case.
 */

/** Milliseconds per unit, by every label Flink accepts for it. */
const UNIT_MS: ReadonlyMap<string, number> = new Map([
  ...labels(86_400_000, ["d"], ["day"]),
  ...labels(3_600_000, ["h"], ["hour"]),
  ...labels(60_000, ["min", "m"], ["minute"]),
  ...labels(1_000, ["s"], ["sec", "second"]),
  ...labels(1, ["ms"], ["milli", "millisecond"]),
  ...labels(1e-3, ["µs"], ["micro", "microsecond"]),
  ...labels(1e-6, ["ns"], ["nano", "nanosecond"]),
]);

/** Flink's singular labels as they are, its plural ones with and without the `s`. */
function labels(ms: number, singular: string[], plural: string[]): Array<[string, number]> {
  return [...singular, ...plural, ...plural.map((p) => `${p}s`)].map((l) => [l, ms]);
}

/**
 * The milliseconds `text` names, or undefined when it is no duration in Flink's syntax or not a
 * whole number of milliseconds (Eddy's settings are in ms).
 */
export function parseDurationMs(text: string): number | undefined {
  const m = /^(\d+)\s*([^\d\s]*)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase();
  const per = unit === "" ? 1 : UNIT_MS.get(unit);
  if (per === undefined) return undefined;
  const ms = Number(m[1]) * per;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** `ms` the shortest way Flink's syntax writes it (`1d`, `90s`, `250ms`), for messages and docs. */
export function formatDurationMs(ms: number): string {
  for (const [unit, per] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["min", 60_000],
    ["s", 1_000],
  ] as const)
    if (ms >= per && ms % per === 0) return `${ms / per}${unit}`;
  return `${ms}ms`;
}
