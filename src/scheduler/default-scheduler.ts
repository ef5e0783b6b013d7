import { ErrorCode, failureInfo, EddyError, type FailureInfo } from "../core/errors.js";
import { Timeouts } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import { createTaskDeploymentDescriptor } from "../executiongraph/deployment.js";
import type { AssignedSlot, Execution } from "../executiongraph/execution.js";
import type { ExecutionGraph } from "../executiongraph/execution-graph.js";
import type { ExecutionVertex } from "../executiongraph/execution-vertex.js";
import type { ConsumedPartitionGroup } from "../executiongraph/intermediate-result.js";
import { ExecutionFailureHandler } from "./execution-failure-handler.js";
import { RestartAllFailoverStrategy } from "./failover/restart-all.js";
import { RestartPipelinedRegionFailoverStrategy } from "./failover/restart-pipelined-region.js";
import { computePipelinedRegions, type PipelinedRegion, type RegionTopology } from "./failover/pipelined-region.js";
import { createRestartStrategy } from "./restart/factory.js";
import type { SchedulerContext, SchedulerNG, TaskExecutionState } from "./scheduler-ng.js";
import { SlotPool } from "./slot-pool.js";
import { RegionQueue } from "./region-queue.js";
import { slotSharingKeys } from "./slot-sharing.js";
import { cancelExecution } from "./cancel-execution.js";

/** Options of the {@link DefaultScheduler}. */
export interface DefaultSchedulerOptions {
  /** How long a region waits for its slots before the job fails (Flink's slot.request.timeout, 5 min). */
  slotRequestTimeoutMs?: number;
  /** Free slots idle this long go back to their TaskExecutor (Flink's slot.idle.timeout, 50 s). */
  slotIdleTimeoutMs?: number;
}

/**
 * Flink's DefaultScheduler with pipelined region scheduling: regions (subtasks joined by PIPELINED
 * exchanges) are scheduled when their BLOCKING inputs are complete, each as one bulk of shared
 * slots; a failure restarts what the failover strategy says (region by default, or full) after the
 * restart strategy's backoff, or fails the job when the strategy is exhausted.
 */
export class DefaultScheduler implements SchedulerNG {
  protected topology: RegionTopology;
  private readonly failures: ExecutionFailureHandler;
  private readonly pool = new SlotPool();
  /** Regions scheduled, waiting for slots, in order. */
  private readonly waiting = new RegionQueue();
  private readonly scheduled = new Set<PipelinedRegion>();
  /** Unfinished partitions per BLOCKING group (lazily counted). */
  private readonly unfinished = new Map<ConsumedPartitionGroup, number>();
  private pendingRestart: { tasks: Set<ExecutionVertex>; at: number; cancel?: () => void } | undefined;
  private slotTimer: (() => void) | undefined;
  private idleTimer: (() => void) | undefined;
  private readonly slotRequestTimeoutMs: number;
  private readonly slotIdleTimeoutMs: number;
  private declared = -1;

  constructor(
    protected readonly graph: ExecutionGraph,
    private readonly ctx: SchedulerContext,
    protected readonly log: Logger,
    opts: DefaultSchedulerOptions = {},
  ) {
    this.topology = computePipelinedRegions(graph);
    const cfg = graph.jobGraph.config;
    const failover = cfg.failoverStrategy === "full" ? new RestartAllFailoverStrategy(graph) : new RestartPipelinedRegionFailoverStrategy(this.topology);
    this.failures = new ExecutionFailureHandler(failover, createRestartStrategy(cfg.restartStrategy, cfg.checkpointing !== undefined));
    this.slotRequestTimeoutMs = opts.slotRequestTimeoutMs ?? Timeouts.slotRequest;
    this.slotIdleTimeoutMs = opts.slotIdleTimeoutMs ?? 50_000;
  }

  /** The pipelined regions (for status and tests). */
  get regions(): readonly PipelinedRegion[] {
    return this.topology.regions;
  }

  get numberOfRestarts(): number {
    return this.failures.numberOfRestarts;
  }

  startScheduling(): void {
    this.graph.transitionTo("CREATED");
    this.graph.transitionTo("RUNNING");
    this.log.info({ regions: this.topology.regions.length, failover: this.failures.failover.name, restart: this.failures.restart.describe() }, "scheduling");
    for (const r of this.topology.sources()) this.scheduleRegion(r);
  }

  newSlotsAvailable(slots: AssignedSlot[]): void {
    if (this.isTerminalOrStopping()) {
      for (const s of slots) this.ctx.releaseSlot(s);
      return;
    }
    for (const s of slots) this.pool.add(s);
    this.assignWaitingRegions();
  }

  updateTaskExecutionState(u: TaskExecutionState): boolean {
    const e = this.graph.execution(u.attemptId);
    if (!e) return false;
    // A late report of an old attempt, or one repeated by a TaskExecutor that got no answer.
    if (e !== e.vertex.currentExecution || e.isTerminal || e.state === u.state) return true;
    if (u.accumulators) e.accumulators = u.accumulators;
    if (u.state === "FAILED" && e.state !== "CANCELING") {
      this.markFailed(e, u.failure ?? { code: ErrorCode.TaskFailed, name: "EddyError", message: `${e} failed` });
      this.onFailure(e.vertex, e.failure!);
    } else if (u.state === "CANCELED" && e.state !== "CANCELING") {
      // Canceled without being asked (its TaskExecutor shut down): a failure of the task.
      this.markFailed(e, { code: ErrorCode.TaskFailed, name: "EddyError", message: `${e} was canceled by its TaskExecutor` });
      this.onFailure(e.vertex, e.failure!);
    } else {
      const to = e.stateAfterReport(u.state);
      if (to === undefined) return true;
      e.advanceTo(to);
      if (e.isTerminal) this.pool.vacate(e);
      if (to === "FINISHED") this.onFinished(e);
    }
    this.afterChange();
    return true;
  }

  taskExecutorLost(taskExecutorId: string, cause: FailureInfo): void {
    this.pool.removeTaskExecutor(taskExecutorId);
    const failed: ExecutionVertex[] = [];
    for (const e of this.graph.currentExecutions()) {
      if (!e.isTerminal && e.slot?.taskExecutorId === taskExecutorId) {
        this.markFailed(e, cause);
        failed.push(e.vertex);
      }
    }
    for (const ev of failed) this.onFailure(ev, cause);
    this.afterChange();
  }

  cancel(): void {
    if (this.isTerminalOrStopping()) return;
    this.graph.transitionTo("CANCELLING");
    this.stopTimers();
    this.cancelExecutions(this.graph.currentExecutions());
    this.afterChange();
  }

  suspend(): void {
    if (!this.graph.canTransitionTo("SUSPENDED")) return;
    this.stopTimers();
    this.graph.transitionTo("SUSPENDED");
    for (const s of this.pool.takeAll()) this.ctx.releaseSlot(s);
    this.declare(0);
  }

  // --- scheduling -------------------------------------------------------------------------

  private scheduleRegion(r: PipelinedRegion): void {
    if (this.scheduled.has(r)) return;
    this.scheduled.add(r);
    for (const ev of r.vertices) ev.currentExecution.transitionTo("SCHEDULED");
    this.waiting.push(r);
    this.assignWaitingRegions();
  }

  /** Gives whole regions their shared slots, first come first served, and deploys them. */
  private assignWaitingRegions(): void {
    for (let region = this.waiting.peek(); region; region = this.waiting.peek()) {
      const keys = slotSharingKeys(region);
      if (this.pool.freeCount < keys.size) break;
      this.waiting.shift();
      const free = this.pool.takeFree(keys.size);
      let i = 0;
      for (const members of keys.values()) {
        const slot = free[i++]!;
        for (const ev of members) this.pool.occupy(slot, ev.currentExecution);
      }
      this.deploy(region);
    }
    this.armTimers();
    this.declare(this.pool.inUse + this.waiting.slots);
  }

  private deploy(region: PipelinedRegion): void {
    for (const ev of region.vertices) {
      const e = ev.currentExecution;
      const tdd = createTaskDeploymentDescriptor(this.graph, e, this.ctx.restoreFor?.(e));
      e.transitionTo("DEPLOYING");
      this.ctx.deploy(e, tdd).catch((err) => {
        this.log.warn({ err, task: String(e) }, "deployment failed");
        this.updateTaskExecutionState({ attemptId: e.attemptId, state: "FAILED", failure: failureInfo(err) });
      });
    }
    this.log.info({ region: region.id, tasks: region.vertices.length }, "region deployed");
  }

  /** A finished producer may complete BLOCKING groups; regions whose inputs are all complete are scheduled. */
  private onFinished(e: Execution): void {
    if (this.graph.state !== "RUNNING") return;
    for (const p of e.vertex.producedPartitions) {
      if (p.result.resultPartitionType !== "BLOCKING") continue;
      for (const g of p.result.groupsOfPartition[p.partitionIndex] ?? []) {
        const cached = this.unfinished.get(g);
        const left = cached === undefined ? this.unfinishedOf(g) : cached - 1;
        this.unfinished.set(g, left);
        if (left === 0) {
          this.onGroupComplete(g);
          // The hook may have rebuilt the result's groups (a consumer initialized late).
          for (const cg of g.result.groups.includes(g) ? [g] : g.result.groups)
            for (const r of this.topology.consumerRegionsOf(cg)) if (!this.scheduled.has(r) && this.isReady(r)) this.scheduleRegion(r);
        }
      }
    }
  }

  /**
   * A BLOCKING group is complete, before its consumers are scheduled: the hook where adaptive batch
   * scheduling decides the consumers' parallelism (nothing here).
   */
  protected onGroupComplete(g: ConsumedPartitionGroup): void {
    void g;
  }

  /** True when every partition of `g` is finished. */
  protected isComplete(g: ConsumedPartitionGroup): boolean {
    return this.unfinishedOf(g) === 0;
  }

  /**
   * Recomputes the regions after the graph changed shape (a vertex initialized late) and carries
   * over which regions are scheduled or waiting (regions are identified by their first subtask).
   */
  protected rebuildTopology(): void {
    const next = computePipelinedRegions(this.graph);
    const map = (r: PipelinedRegion): PipelinedRegion | undefined => {
      const ev = r.vertices[0]!;
      return ev.jobVertex.taskVertices[ev.subtaskIndex] === ev ? next.regionOf(ev) : undefined;
    };
    const scheduled = [...this.scheduled].map(map);
    this.scheduled.clear();
    for (const r of scheduled) if (r) this.scheduled.add(r);
    this.waiting.remap(map);
    this.topology = next;
  }

  /** Partitions of `g` whose producer has not finished (counted once, then kept up to date). */
  private unfinishedOf(g: ConsumedPartitionGroup): number {
    let n = this.unfinished.get(g);
    if (n === undefined) {
      n = 0;
      for (const p of g.partitions) if (p.producer.currentExecution.state !== "FINISHED") n++;
      this.unfinished.set(g, n);
    }
    return n;
  }

  private isReady(r: PipelinedRegion): boolean {
    for (const g of r.inputGroups) if (this.unfinishedOf(g) > 0) return false;
    return true;
  }

  // --- failures ---------------------------------------------------------------------------

  /** A failure of the whole job (too many failed checkpoints...): every task restarts, or the job fails. */
  failGlobal(cause: FailureInfo): void {
    const st = this.graph.state;
    if (st !== "RUNNING" && st !== "RESTARTING") return;
    this.graph.exceptionHistory.recordGlobalFailure(cause);
    const all = new RestartAllFailoverStrategy(this.graph);
    const first = [...this.graph.vertices()][0]!;
    const r = new ExecutionFailureHandler(all, this.failures.restart).handle(first, cause);
    if (!r.restart) {
      this.failJob(r.cause);
      return;
    }
    this.failures.numberOfRestarts++;
    const at = Date.now() + r.backoffMs;
    this.pendingRestart?.cancel?.();
    this.pendingRestart = { tasks: r.tasks, at: Math.max(at, this.pendingRestart?.at ?? 0) };
    this.ctx.failoverStarted?.();
    if (this.graph.state === "RUNNING") this.graph.transitionTo("RESTARTING");
    this.log.warn({ cause: cause.message }, "global failure: restarting every task");
    this.cancelExecutions(this.graph.currentExecutions());
    this.afterChange();
  }

  private markFailed(e: Execution, cause: FailureInfo): void {
    this.graph.exceptionHistory.recordTaskFailure(e, cause);
    e.failure = cause;
    e.transitionTo("FAILED");
    this.pool.vacate(e);
    this.log.warn({ task: String(e), failure: cause.message }, "task failed");
  }

  private onFailure(ev: ExecutionVertex, cause: FailureInfo): void {
    const st = this.graph.state;
    if (st !== "RUNNING" && st !== "RESTARTING") return; // failing, canceling or done: cancellation is under way
    if (this.pendingRestart?.tasks.has(ev)) return; // already being restarted
    const r = this.failures.handle(ev, cause);
    if (!r.restart) {
      this.failJob(r.cause);
      return;
    }
    const at = Date.now() + r.backoffMs;
    if (this.pendingRestart) {
      for (const t of r.tasks) this.pendingRestart.tasks.add(t);
      this.pendingRestart.at = Math.max(this.pendingRestart.at, at);
    } else this.pendingRestart = { tasks: r.tasks, at };
    this.ctx.failoverStarted?.();
    if (this.failures.failover.name === "full" && this.graph.state === "RUNNING") this.graph.transitionTo("RESTARTING");
    this.log.info({ tasks: r.tasks.size, backoffMs: r.backoffMs, restarts: this.failures.numberOfRestarts }, "restarting tasks");
    this.cancelExecutions([...r.tasks].map((v) => v.currentExecution));
  }

  /** Once every task to restart is final and the backoff passed: new attempts, regions scheduled again. */
  private maybeRestart(): void {
    const p = this.pendingRestart;
    if (!p || p.cancel) return;
    for (const ev of p.tasks) if (!ev.currentExecution.isTerminal) return;
    p.cancel = this.ctx.schedule(Math.max(0, p.at - Date.now()), () => {
      if (this.pendingRestart !== p) return;
      this.pendingRestart = undefined;
      if (this.graph.state === "RESTARTING") {
        this.graph.transitionTo("CREATED");
        this.graph.transitionTo("RUNNING");
      }
      if (this.graph.state !== "RUNNING") return;
      const regions = new Set<PipelinedRegion>();
      const superseded: string[] = [];
      for (const ev of p.tasks) {
        if (ev.currentExecution.state === "FINISHED")
          for (const part of ev.producedPartitions) for (const g of part.result.groupsOfPartition[part.partitionIndex] ?? []) this.unfinished.delete(g);
        if (ev.producedPartitions.some((part) => part.result.resultPartitionType === "BLOCKING")) superseded.push(ev.currentExecution.attemptId);
        this.graph.newAttempt(ev);
        const r = this.topology.regionOf(ev);
        regions.add(r);
        this.scheduled.delete(r);
      }
      this.waiting.removeWhere((r) => regions.has(r));
      if (superseded.length) this.ctx.releasePartitions(superseded);
      for (const r of this.topology.regions) if (regions.has(r) && this.isReady(r)) this.scheduleRegion(r);
      this.afterChange();
    });
  }

  private failJob(cause: FailureInfo): void {
    if (!this.graph.canTransitionTo("FAILING")) return;
    this.stopTimers();
    this.graph.failureCause = cause;
    this.graph.transitionTo("FAILING");
    this.cancelExecutions(this.graph.currentExecutions());
  }

  private cancelExecutions(executions: Iterable<Execution>): void {
    for (const e of executions)
      cancelExecution(e, this.ctx, this.log, () => {
        // Unreachable (its TaskExecutor is gone): it runs nowhere any more.
        if (e.state === "CANCELING") {
          e.transitionTo("CANCELED");
          this.pool.vacate(e);
        }
        this.afterChange();
      });
    this.waiting.removeWhere((r) => r.vertices.every((v) => v.currentExecution.isTerminal));
  }

  // --- bookkeeping ------------------------------------------------------------------------

  private afterChange(): void {
    this.maybeRestart();
    this.checkTermination();
    if (!this.isTerminalOrStopping()) this.assignWaitingRegions();
  }

  private checkTermination(): void {
    const st = this.graph.state;
    const total = this.graph.totalSubtasks;
    if (this.graph.terminalCount < total) return;
    let to: "FINISHED" | "FAILED" | "CANCELED" | undefined;
    if (st === "RUNNING" && this.graph.finishedCount === total && !this.pendingRestart) to = "FINISHED";
    else if (st === "FAILING") to = "FAILED";
    else if (st === "CANCELLING") to = "CANCELED";
    if (!to) return;
    this.graph.transitionTo(to);
    this.stopTimers();
    for (const s of this.pool.takeAll()) this.ctx.releaseSlot(s);
    this.declare(0);
    this.ctx.jobTerminated(to);
  }

  private armTimers(): void {
    if (this.waiting.size && !this.slotTimer) {
      this.slotTimer = this.ctx.schedule(this.slotRequestTimeoutMs, () => {
        this.slotTimer = undefined;
        const head = this.waiting.peek();
        if (!head || this.isTerminalOrStopping()) return;
        const need = slotSharingKeys(head).size;
        this.failJob(
          failureInfo(
            new EddyError(
              ErrorCode.SlotAllocationFailed,
              `could not get ${need} slots within ${this.slotRequestTimeoutMs} ms (have ${this.pool.freeCount} free); start more TaskExecutors or lower the parallelism`,
            ),
          ),
        );
        this.afterChange();
      });
    } else if (!this.waiting.size && this.slotTimer) {
      this.slotTimer();
      this.slotTimer = undefined;
    }
    if (!this.idleTimer && this.pool.size) {
      this.idleTimer = this.ctx.schedule(Math.max(100, this.slotIdleTimeoutMs / 2), () => {
        this.idleTimer = undefined;
        if (this.isTerminalOrStopping()) return;
        const keep = this.waiting.slots + (this.pendingRestart ? this.pendingRestart.tasks.size : 0);
        for (const s of this.pool.takeIdle(this.slotIdleTimeoutMs, keep)) this.ctx.releaseSlot(s);
        this.armTimers();
      });
    }
  }

  private stopTimers(): void {
    this.slotTimer?.();
    this.slotTimer = undefined;
    this.idleTimer?.();
    this.idleTimer = undefined;
    this.pendingRestart?.cancel?.();
    this.pendingRestart = undefined;
    this.waiting.clear();
  }

  private declare(n: number): void {
    if (n === this.declared) return;
    this.declared = n;
    this.ctx.declareRequiredSlots(n);
  }

  private isTerminalOrStopping(): boolean {
    const s = this.graph.state;
    return s !== "RUNNING" && s !== "RESTARTING" && s !== "CREATED";
  }
}
