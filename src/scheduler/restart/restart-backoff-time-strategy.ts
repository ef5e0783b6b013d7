/**
 * When and after how long a failed job may restart (Flink's RestartBackoffTimeStrategy). The
 * scheduler calls {@link notifyFailure} for every failure, then asks {@link canRestart} and, if so,
 * waits {@link getBackoffTime} before restarting.
 */
export interface RestartBackoffTimeStrategy {
  /** Records a failure at `now` (ms). */
  notifyFailure(now: number): void;
  /** Whether the failure just notified may be followed by a restart. */
  canRestart(): boolean;
  /** How long to wait before the restart, ms. */
  getBackoffTime(): number;
  /** A one-line description for logs and failure messages. */
  describe(): string;
}
