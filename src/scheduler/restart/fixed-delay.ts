import type { RestartBackoffTimeStrategy } from "./restart-backoff-time-strategy.js";

/** Settings of {@link FixedDelayRestartStrategy}, Flink's defaults: 1 attempt, 1 s delay. */
export interface FixedDelayOptions {
  attempts?: number;
  delayMs?: number;
}

/** Restarts up to `attempts` times, each after the same delay (Flink's `fixed-delay`). */
export class FixedDelayRestartStrategy implements RestartBackoffTimeStrategy {
  private failures = 0;
  readonly attempts: number;
  readonly delayMs: number;

  constructor(o: FixedDelayOptions = {}) {
    this.attempts = o.attempts ?? 1;
    this.delayMs = o.delayMs ?? 1_000;
  }
  notifyFailure(_now?: number): void {
    this.failures++;
  }
  canRestart(): boolean {
    return this.failures <= this.attempts;
  }
  getBackoffTime(): number {
    return this.delayMs;
  }
  describe(): string {
    return `fixed-delay (attempts ${this.attempts}, delay ${this.delayMs} ms; failures so far ${this.failures})`;
  }
}
