import type { RestartBackoffTimeStrategy } from "./restart-backoff-time-strategy.js";

/** Settings of {@link FailureRateRestartStrategy}, Flink's defaults: 1 failure per 1 min, 1 s delay. */
export interface FailureRateOptions {
  maxFailuresPerInterval?: number;
  intervalMs?: number;
  delayMs?: number;
}

/** Restarts while at most `maxFailuresPerInterval` failures fall in the last `intervalMs` (Flink's `failure-rate`). */
export class FailureRateRestartStrategy implements RestartBackoffTimeStrategy {
  private readonly failures: number[] = [];
  readonly maxFailuresPerInterval: number;
  readonly intervalMs: number;
  readonly delayMs: number;

  constructor(o: FailureRateOptions = {}) {
    this.maxFailuresPerInterval = o.maxFailuresPerInterval ?? 1;
    this.intervalMs = o.intervalMs ?? 60_000;
    this.delayMs = o.delayMs ?? 1_000;
  }
  notifyFailure(now: number): void {
    this.failures.push(now);
    while (this.failures.length && this.failures[0]! <= now - this.intervalMs) this.failures.shift();
  }
  canRestart(): boolean {
    return this.failures.length <= this.maxFailuresPerInterval;
  }
  getBackoffTime(): number {
    return this.delayMs;
  }
  describe(): string {
    return `failure-rate (at most ${this.maxFailuresPerInterval} failures per ${this.intervalMs} ms, delay ${this.delayMs} ms)`;
  }
}
