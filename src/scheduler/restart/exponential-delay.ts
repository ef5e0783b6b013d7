import type { RestartBackoffTimeStrategy } from "./restart-backoff-time-strategy.js";

/** Settings of {@link ExponentialDelayRestartStrategy}; the defaults are Flink's (1.19+). */
export interface ExponentialDelayOptions {
  /** Default 1 s. */
  initialBackoffMs?: number;
  /** Default 1 min. */
  maxBackoffMs?: number;
  /** Default 1.5. */
  backoffMultiplier?: number;
  /** Fraction of the backoff added or removed at random. Default 0.1. */
  jitterFactor?: number;
  /** A failure this long after the previous one resets the backoff and the attempt count. Default 1 h. */
  resetBackoffThresholdMs?: number;
  /** Restarts allowed before a reset (Flink's attempts-before-reset-backoff). Default unlimited. */
  attemptsBeforeResetBackoff?: number;
  /** Random source in [0, 1) (tests make it deterministic). */
  random?: () => number;
}

/**
 * Backoff grows by `backoffMultiplier` per failure up to `maxBackoffMs`, with jitter; a quiet period
 * of `resetBackoffThresholdMs` resets it (Flink's `exponential-delay`).
 */
export class ExponentialDelayRestartStrategy implements RestartBackoffTimeStrategy {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly backoffMultiplier: number;
  readonly jitterFactor: number;
  readonly resetBackoffThresholdMs: number;
  readonly attemptsBeforeResetBackoff: number;
  private readonly random: () => number;
  private backoff = 0;
  private lastFailure: number | undefined;
  private attempts = 0;

  constructor(o: ExponentialDelayOptions = {}) {
    this.initialBackoffMs = o.initialBackoffMs ?? 1_000;
    this.maxBackoffMs = o.maxBackoffMs ?? 60_000;
    this.backoffMultiplier = o.backoffMultiplier ?? 1.5;
    this.jitterFactor = o.jitterFactor ?? 0.1;
    this.resetBackoffThresholdMs = o.resetBackoffThresholdMs ?? 3_600_000;
    this.attemptsBeforeResetBackoff = o.attemptsBeforeResetBackoff ?? Number.MAX_SAFE_INTEGER;
    this.random = o.random ?? Math.random;
  }

  notifyFailure(now: number): void {
    if (this.lastFailure === undefined || now - this.lastFailure >= this.resetBackoffThresholdMs) {
      this.backoff = this.initialBackoffMs;
      this.attempts = 0;
    } else {
      this.backoff = Math.min(this.backoff * this.backoffMultiplier, this.maxBackoffMs);
    }
    this.attempts++;
    this.lastFailure = now;
  }

  canRestart(): boolean {
    return this.attempts <= this.attemptsBeforeResetBackoff;
  }

  getBackoffTime(): number {
    const jitter = this.backoff * this.jitterFactor * (2 * this.random() - 1);
    return Math.max(0, Math.round(Math.min(this.backoff + jitter, this.maxBackoffMs * (1 + this.jitterFactor))));
  }

  describe(): string {
    return `exponential-delay (initial ${this.initialBackoffMs} ms, max ${this.maxBackoffMs} ms, multiplier ${this.backoffMultiplier}, jitter ${this.jitterFactor}, attempt ${this.attempts})`;
  }
}
