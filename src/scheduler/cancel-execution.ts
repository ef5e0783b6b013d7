import type { Logger } from "../core/logger.js";
import type { Execution } from "../executiongraph/execution.js";
import type { SchedulerContext } from "./scheduler-ng.js";

/**
 * Cancels one execution as both schedulers do (Flink's Execution.cancel). One never deployed
 * (CREATED, SCHEDULED) is CANCELED at once and `true` is returned. A deployed one goes CANCELING and
 * its TaskExecutor is asked to cancel it; its CANCELED (or a crossing FINISHED) report ends the
 * cancel. When the TaskExecutor cannot be reached or no longer has the task, the task runs nowhere:
 * `unreachable` is called to count it as canceled. A final execution is left as it is.
 */
export function cancelExecution(e: Execution, ctx: Pick<SchedulerContext, "cancelTask">, log: Logger, unreachable: (e: Execution) => void): boolean {
  switch (e.state) {
    case "CREATED":
    case "SCHEDULED":
      e.transitionTo("CANCELED");
      return true;
    case "DEPLOYING":
    case "INITIALIZING":
    case "RUNNING":
      e.transitionTo("CANCELING");
      ctx.cancelTask(e).catch((err) => {
        log.warn({ err, task: String(e) }, "cancel failed; the task counts as canceled");
        unreachable(e);
      });
      return false;
    default:
      return false;
  }
}
