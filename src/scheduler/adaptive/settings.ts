/**
 * The AdaptiveScheduler's settings (Flink's jobmanager.adaptive-scheduler.* options) with Flink's
 * defaults, and reactive mode's overrides (Flink's scheduler-mode: reactive).
 */

/** Settings of the AdaptiveScheduler; a negative or infinite resource wait means wait forever. */
export interface AdaptiveSchedulerSettings {
  /** resource-wait-timeout: how long a job waits for (at least sufficient) resources. Default 5 min; reactive: forever. */
  resourceWaitTimeoutMs: number;
  /** resource-stabilization-timeout: sufficient but not desired resources must stay so this long. Default 10 s; reactive: 0. */
  resourceStabilizationTimeoutMs: number;
  /** min-parallelism-increase: a vertex must gain at least this many subtasks to rescale up. Default 1. */
  minParallelismIncrease: number;
  /** scaling-interval.min: least time between entering Executing and a rescale (cooldown). Default 30 s. */
  scalingIntervalMinMs: number;
  /** Reactive mode: every vertex's upper bound is its max parallelism and resources are awaited forever. */
  reactive: boolean;
}

/** Flink's defaults. */
export const DEFAULT_ADAPTIVE_SCHEDULER_SETTINGS: Readonly<AdaptiveSchedulerSettings> = Object.freeze({
  resourceWaitTimeoutMs: 5 * 60_000,
  resourceStabilizationTimeoutMs: 10_000,
  minParallelismIncrease: 1,
  scalingIntervalMinMs: 30_000,
  reactive: false,
});

/**
 * The settings for a job: Flink's defaults, reactive mode's (infinite resource wait, no
 * stabilization) when `reactive`, then the explicit `overrides`.
 */
export function adaptiveSchedulerSettings(overrides: Partial<AdaptiveSchedulerSettings> = {}): AdaptiveSchedulerSettings {
  const reactive = overrides.reactive ?? false;
  const base: AdaptiveSchedulerSettings = reactive
    ? { ...DEFAULT_ADAPTIVE_SCHEDULER_SETTINGS, reactive: true, resourceWaitTimeoutMs: -1, resourceStabilizationTimeoutMs: 0 }
    : { ...DEFAULT_ADAPTIVE_SCHEDULER_SETTINGS };
  const out = { ...base };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** True when the resource wait is bounded. */
export function isFiniteWait(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0;
}
