import { ErrorCode, failureInfo, EddyError, type FailureInfo } from "../core/errors.js";
import { Timeouts } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import { createTaskDeploymentDescriptor } from "../executiongraph/deployment.js";
import type { AssignedSlot, Execution } from "../executiongraph/execution.js";
import type { ExecutionGraph } from "../executiongraph/execution-graph.js";
import type { SchedulerContext, SchedulerNG, TaskExecutionState } from "./scheduler-ng.js";
import { SlotSharingPlan } from "./slot-sharing.js";

/** Options of the {@link DefaultScheduler}. */
export interface DefaultSchedulerOptions {
  /** How long the job waits for its slots before failing (Flink's slot.request.timeout). */
  slotRequestTimeoutMs?: number;
}

/**
 * Flink's DefaultScheduler, eager form: the whole job is one pipelined region; its slots are
 * declared at once (with slot sharing), assigned when all are offered, then every task is deployed.
 * A task failure fails the job (restart strategy "none"); cancel goes through CANCELLING.
 */
export class DefaultScheduler implements SchedulerNG {
  private readonly plan: SlotSharingPlan;
  private readonly slots: AssignedSlot[] = [];
  private deployed = false;
  private cancelSlotTimeout: (() => void) | undefined;
  private readonly slotRequestTimeoutMs: number;

  constructor(
    private readonly graph: ExecutionGraph,
    private readonly ctx: SchedulerContext,
    private readonly log: Logger,
    opts: DefaultSchedulerOptions = {},
  ) {
    this.plan = new SlotSharingPlan(graph);
    this.slotRequestTimeoutMs = opts.slotRequestTimeoutMs ?? Timeouts.slotRequest;
  }

  startScheduling(): void {
    this.graph.transitionTo("CREATED");
    this.graph.transitionTo("RUNNING");
    for (const e of this.graph.currentExecutions()) e.transitionTo("SCHEDULED");
    this.ctx.declareRequiredSlots(this.plan.totalSlots);
    this.cancelSlotTimeout = this.ctx.schedule(this.slotRequestTimeoutMs, () => {
      if (this.deployed || this.graph.state !== "RUNNING") return;
      this.failJob(
        failureInfo(new EddyError(ErrorCode.SlotAllocationFailed, `could not get ${this.plan.totalSlots} slots within ${this.slotRequestTimeoutMs} ms (have ${this.slots.length}); start more TaskExecutors or lower the parallelism`)),
      );
    });
  }

  newSlotsAvailable(slots: AssignedSlot[]): void {
    if (this.deployed || this.graph.state !== "RUNNING") {
      for (const s of slots) this.ctx.releaseSlot(s);
      return;
    }
    this.slots.push(...slots);
    if (this.slots.length >= this.plan.totalSlots) this.deployAll();
  }

  private deployAll(): void {
    this.deployed = true;
    this.cancelSlotTimeout?.();
    const extra = this.slots.splice(this.plan.totalSlots);
    for (const s of extra) this.ctx.releaseSlot(s);
    const executions = [...this.graph.currentExecutions()];
    for (const e of executions) e.slot = this.slots[this.plan.slotIndexOf(e.vertex)];
    for (const e of executions) {
      const tdd = createTaskDeploymentDescriptor(this.graph.jobGraph, e);
      e.transitionTo("DEPLOYING");
      this.ctx.deploy(e, tdd).catch((err) => {
        this.log.warn({ err, task: String(e) }, "deployment failed");
        this.updateTaskExecutionState({ attemptId: e.attemptId, state: "FAILED", failure: failureInfo(err) });
      });
    }
    this.log.info({ tasks: executions.length, slots: this.slots.length }, "job deployed");
  }

  updateTaskExecutionState(u: TaskExecutionState): boolean {
    const e = this.graph.execution(u.attemptId);
    if (!e) return false;
    if (e !== e.vertex.currentExecution || e.isTerminal) return true; // stale report of an old attempt
    if (u.accumulators) e.accumulators = u.accumulators;
    if (u.state === "FAILED") {
      e.failure = u.failure ?? { code: ErrorCode.TaskFailed, name: "EddyError", message: "task failed" };
      e.transitionTo("FAILED");
      this.log.warn({ task: String(e), failure: e.failure.message }, "task failed");
      this.failJob(e.failure);
    } else if (u.state === "CANCELED" && e.state !== "CANCELING") {
      // The task ended on its own as canceled (its TaskExecutor shut down): a failure of the job.
      e.transitionTo("FAILED");
      this.failJob({ code: ErrorCode.TaskFailed, name: "EddyError", message: `${e} was canceled by its TaskExecutor` });
    } else {
      e.transitionTo(u.state);
    }
    this.checkTermination();
    return true;
  }

  taskExecutorLost(taskExecutorId: string, cause: FailureInfo): void {
    for (const e of this.graph.currentExecutions()) {
      if (!e.isTerminal && e.slot?.taskExecutorId === taskExecutorId) {
        e.failure = cause;
        e.transitionTo("FAILED");
      }
    }
    const lost = this.slots.filter((s) => s.taskExecutorId === taskExecutorId);
    if (lost.length && this.graph.state === "RUNNING") this.failJob(cause);
    this.checkTermination();
  }

  cancel(): void {
    const st = this.graph.state;
    if (st === "CANCELLING" || st === "CANCELED" || st === "FINISHED" || st === "FAILED") return;
    this.cancelSlotTimeout?.();
    this.graph.transitionTo("CANCELLING");
    this.cancelAll();
    this.checkTermination();
  }

  /**
   * The JobManager is shutting down without the job ending: the job goes SUSPENDED (locally
   * terminal, recoverable from the HA stores), its slots are given back, which cancels its tasks.
   */
  suspend(): void {
    if (!this.graph.canTransitionTo("SUSPENDED")) return;
    this.cancelSlotTimeout?.();
    this.graph.transitionTo("SUSPENDED");
    for (const s of this.slots.splice(0)) this.ctx.releaseSlot(s);
    this.ctx.declareRequiredSlots(0);
  }

  private failJob(cause: FailureInfo): void {
    if (this.graph.state !== "RUNNING" && this.graph.state !== "CREATED") return;
    this.cancelSlotTimeout?.();
    this.graph.failureCause = cause;
    this.graph.transitionTo("FAILING");
    this.cancelAll();
  }

  private cancelAll(): void {
    for (const e of this.graph.currentExecutions()) this.cancelExecution(e);
  }

  private cancelExecution(e: Execution): void {
    switch (e.state) {
      case "CREATED":
      case "SCHEDULED":
        e.transitionTo("CANCELED");
        return;
      case "DEPLOYING":
      case "INITIALIZING":
      case "RUNNING":
        e.transitionTo("CANCELING");
        this.ctx.cancelTask(e).catch((err) => {
          // The task cannot be reached (its TaskExecutor is gone): it is not running anywhere.
          this.log.warn({ err, task: String(e) }, "cancel failed; marking the task canceled");
          if (e.state === "CANCELING") e.transitionTo("CANCELED");
          this.checkTermination();
        });
        return;
      default:
        return;
    }
  }

  private checkTermination(): void {
    let allFinished = true;
    for (const e of this.graph.currentExecutions()) {
      if (!e.isTerminal) return;
      if (e.state !== "FINISHED") allFinished = false;
    }
    const st = this.graph.state;
    let to: "FINISHED" | "FAILED" | "CANCELED" | undefined;
    if (st === "RUNNING" && allFinished) to = "FINISHED";
    else if (st === "FAILING") to = "FAILED";
    else if (st === "CANCELLING") to = "CANCELED";
    if (!to) return;
    this.graph.transitionTo(to);
    for (const s of this.slots.splice(0)) this.ctx.releaseSlot(s);
    this.ctx.declareRequiredSlots(0);
    this.ctx.jobTerminated(to);
  }
}
