import type { FailureInfo } from "../core/errors.js";
import type { ExecutionVertex } from "../executiongraph/execution-vertex.js";
import type { FailoverStrategy } from "./failover/failover-strategy.js";
import type { RestartBackoffTimeStrategy } from "./restart/restart-backoff-time-strategy.js";

/** What to do about a failure (Flink's FailureHandlingResult). */
export type FailureHandlingResult = { restart: true; tasks: Set<ExecutionVertex>; backoffMs: number } | { restart: false; cause: FailureInfo };

/**
 * Combines the restart strategy (may the job restart, and when) with the failover strategy (which
 * subtasks) — Flink's ExecutionFailureHandler.
 */
export class ExecutionFailureHandler {
  numberOfRestarts = 0;

  constructor(
    readonly failover: FailoverStrategy,
    readonly restart: RestartBackoffTimeStrategy,
  ) {}

  handle(failed: ExecutionVertex, cause: FailureInfo, now = Date.now()): FailureHandlingResult {
    this.restart.notifyFailure(now);
    if (!this.restart.canRestart()) {
      return {
        restart: false,
        cause: { ...cause, message: `${cause.message} (restart strategy ${this.restart.describe()} allows no more restarts)` },
      };
    }
    this.numberOfRestarts++;
    return { restart: true, tasks: this.failover.tasksToRestart(failed), backoffMs: this.restart.getBackoffTime() };
  }
}
