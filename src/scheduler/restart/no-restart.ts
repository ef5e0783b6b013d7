import type { RestartBackoffTimeStrategy } from "./restart-backoff-time-strategy.js";

/** Never restarts: the first failure fails the job (Flink's `none`). */
export class NoRestartStrategy implements RestartBackoffTimeStrategy {
  notifyFailure(_now?: number): void {}
  canRestart(): boolean {
    return false;
  }
  getBackoffTime(): number {
    return 0;
  }
  describe(): string {
    return "none";
  }
}
