import { createActor, type Actor as XActor } from "xstate";
import { EddyError, ErrorCode, failureInfo, IllegalStateTransitionError, NotFoundError, ValidationError, type FailureInfo } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { createTaskDeploymentDescriptor } from "../../executiongraph/deployment.js";
import type { AssignedSlot, Execution } from "../../executiongraph/execution.js";
import type { ExecutionGraph } from "../../executiongraph/execution-graph.js";
import type { JobStatus } from "../../executiongraph/job-status.js";
import { createRestartStrategy } from "../restart/factory.js";
import type { RestartBackoffTimeStrategy } from "../restart/restart-backoff-time-strategy.js";
import type { SchedulerContext, SchedulerNG, TaskExecutionState } from "../scheduler-ng.js";
import { SlotPool, type PooledSlot } from "../slot-pool.js";
import { cancelExecution } from "../cancel-execution.js";
import { adaptiveSchedulerMachine, type AdaptiveSchedulerStateName } from "./adaptive-scheduler-machine.js";
import type { AdaptiveSchedulerEnvironment, CreationOutcome } from "./environment.js";
import type { AdaptiveSchedulerSettings } from "./settings.js";
import { determineParallelism, requiredSlots, shouldRescale, type VertexParallelism, type VertexRequirement } from "./slot-allocator.js";

/** A user-declared parallelism range of one vertex (Flink's JobVertexResourceRequirements). */
export interface ParallelismBounds {
  lower: number;
  upper: number;
}

/** One entry of the parallelism timeline: when the job (re)started RUNNING at which parallelism. */
export interface ParallelismChange {
  at: number;
  parallelism: Record<string, number>;
  slots: number;
}

/**
 * Flink's AdaptiveScheduler (FLIP-160): the job runs at the parallelism its slots allow, between
 * each vertex's lower and upper bound, and is rescaled when slots come or go. The decisions are the
 * {@link adaptiveSchedulerMachine}'s; this class is its environment: the slot pool, the one
 * ExecutionGraph (rebuilt at each new parallelism), deployment and cancellation through the
 * JobMaster, the restart strategy, and the job status.
 */
export class AdaptiveScheduler implements SchedulerNG {
  private readonly pool = new SlotPool();
  private readonly restart: RestartBackoffTimeStrategy;
  private readonly actor: XActor<typeof adaptiveSchedulerMachine>;
  /** The parallelism each vertex was submitted with (the upper bound outside reactive mode). */
  private readonly submitted = new Map<string, number>();
  private readonly declaredBounds = new Map<string, ParallelismBounds>();
  private readonly forwardEdges: Array<readonly [string, string]>;
  private declared = -1;
  private pendingStop: (() => void) | undefined;
  private ended = false;
  /** When the job started RUNNING at which parallelism, in order. */
  readonly timeline: ParallelismChange[] = [];

  constructor(
    private readonly graph: ExecutionGraph,
    private readonly ctx: SchedulerContext,
    private readonly log: Logger,
    readonly settings: AdaptiveSchedulerSettings,
  ) {
    const cfg = graph.jobGraph.config;
    this.restart = createRestartStrategy(cfg.restartStrategy, cfg.checkpointing !== undefined);
    for (const v of graph.jobGraph.vertices) this.submitted.set(v.id, v.parallelism);
    this.forwardEdges = graph.jobGraph.edges.filter((e) => e.partitioner === "forward").map((e) => [e.source, e.target] as const);
    const env = this.environment();
    this.actor = createActor(adaptiveSchedulerMachine, {
      input: { env, settings },
      clock: {
        setTimeout: (fn: (...args: unknown[]) => void, ms: number) => ctx.schedule(ms, () => fn()),
        clearTimeout: (cancel: unknown) => (cancel as () => void)(),
      },
    });
    this.actor.subscribe((snap) => this.followStatus(snap.value as unknown));
    this.actor.start();
  }

  /** The machine's current top-level state (Flink's state class). */
  get stateName(): AdaptiveSchedulerStateName {
    const v = this.actor.getSnapshot().value as unknown;
    return (typeof v === "string" ? v : Object.keys(v as object)[0]) as AdaptiveSchedulerStateName;
  }

  /** The vertices' current bounds (declared, else from the submission and the mode). */
  requirements(): VertexRequirement[] {
    return this.graph.jobGraph.vertices.map((v) => {
      const d = this.declaredBounds.get(v.id);
      const upper = d?.upper ?? (this.settings.reactive ? v.maxParallelism : this.submitted.get(v.id)!);
      return {
        id: v.id,
        slotSharingGroup: v.slotSharingGroup,
        lower: d?.lower ?? 1,
        upper: Math.min(upper, v.maxParallelism),
        maxParallelism: v.maxParallelism,
      };
    });
  }

  /**
   * Declares new parallelism bounds for a vertex (Flink's externalized declarative resource
   * management): `vertexId` may be a submitted vertex that was chained into another. The job
   * rescales when the slots then allow a worthwhile change (after the cooldown).
   */
  updateRequirements(vertexId: string, bounds: Partial<ParallelismBounds>): { vertexId: string } & ParallelismBounds {
    const v = this.graph.jobGraph.vertices.find(
      (x) => x.id === vertexId || (Array.isArray(x.config.members) && (x.config.members as Array<{ id: string }>).some((m) => m.id === vertexId)),
    );
    if (!v) throw new NotFoundError(ErrorCode.VertexNotFound, `job ${this.graph.jobId} has no vertex ${vertexId}`);
    const current = this.requirements().find((r) => r.id === v.id)!;
    const lower = bounds.lower ?? Math.min(current.lower, bounds.upper ?? current.lower);
    const upper = bounds.upper ?? Math.max(current.upper, lower);
    if (!Number.isInteger(lower) || !Number.isInteger(upper) || lower < 1 || upper < lower || upper > v.maxParallelism)
      throw new ValidationError(
        ErrorCode.InvalidParallelism,
        `bounds [${lower}, ${upper}] of ${vertexId} must satisfy 1 <= lower <= upper <= max parallelism ${v.maxParallelism}`,
      );
    if (this.ended) throw new EddyError(ErrorCode.JobAlreadyTerminal, `job ${this.graph.jobId} has ended`);
    this.declaredBounds.set(v.id, { lower, upper });
    this.log.info({ vertex: v.id, lower, upper }, "parallelism bounds declared");
    this.actor.send({ type: "REQUIREMENTS_CHANGED" });
    return { vertexId: v.id, lower, upper };
  }

  /** Restarts since the job started (Flink's numRestarts). */
  get numberOfRestarts(): number {
    return this.actor.getSnapshot().context.restarts;
  }

  startScheduling(): void {
    this.log.info({ settings: this.settings, restart: this.restart.describe() }, "adaptive scheduling");
    this.actor.send({ type: "START_SCHEDULING" });
  }

  newSlotsAvailable(slots: AssignedSlot[]): void {
    if (this.ended) {
      for (const s of slots) this.ctx.releaseSlot(s);
      return;
    }
    for (const s of slots) this.pool.add(s);
    this.actor.send({ type: "RESOURCES_CHANGED" });
  }

  updateTaskExecutionState(u: TaskExecutionState): boolean {
    const e = this.graph.execution(u.attemptId);
    if (!e) return false;
    // A late report of an old attempt, or one repeated by a TaskExecutor that got no answer.
    if (e !== e.vertex.currentExecution || e.isTerminal || e.state === u.state || e.vertex.jobVertex.graph !== this.graph || !this.isCurrent(e)) return true;
    if (u.accumulators) e.accumulators = u.accumulators;
    if (e.state !== "CANCELING" && (u.state === "FAILED" || u.state === "CANCELED")) {
      const cause =
        u.state === "FAILED"
          ? (u.failure ?? { code: ErrorCode.TaskFailed, name: "EddyError", message: `${e} failed` })
          : { code: ErrorCode.TaskFailed, name: "EddyError", message: `${e} was canceled by its TaskExecutor` };
      this.markFailed(e, cause);
      this.onFailure(cause);
    } else {
      const to = e.stateAfterReport(u.state);
      if (to === undefined) return true;
      e.advanceTo(to);
      if (e.isTerminal) this.pool.vacate(e);
    }
    this.checkTasks();
    return true;
  }

  taskExecutorLost(taskExecutorId: string, cause: FailureInfo): void {
    this.pool.removeTaskExecutor(taskExecutorId);
    let failed = false;
    for (const e of this.graph.currentExecutions())
      if (!e.isTerminal && e.slot?.taskExecutorId === taskExecutorId) {
        this.markFailed(e, cause);
        failed = true;
      }
    if (failed) this.onFailure(cause);
    this.actor.send({ type: "RESOURCES_CHANGED" });
    this.checkTasks();
  }

  cancel(): void {
    this.actor.send({ type: "CANCEL" });
  }

  suspend(): void {
    this.actor.send({ type: "SUSPEND" });
    this.actor.stop();
  }

  /** A failure of the whole job (checkpoint failures...): restarts or fails it as a task failure does. */
  failGlobal(cause: FailureInfo): void {
    this.graph.exceptionHistory.recordGlobalFailure(cause);
    this.onFailure(cause);
  }

  /**
   * Stop-with-savepoint through the StopWithSavepoint state: `run` takes the savepoint; the job keeps
   * running when it fails.
   */
  stopWithSavepoint(run: () => Promise<string>): Promise<string> {
    if (this.stateName !== "executing") return Promise.reject(new IllegalStateTransitionError("AdaptiveScheduler", this.stateName, "stopWithSavepoint"));
    return new Promise<string>((resolve, reject) => {
      this.pendingStop = () =>
        void run().then(
          (id) => {
            this.actor.send({ type: "SAVEPOINT_COMPLETED" });
            resolve(id);
          },
          (err: unknown) => {
            this.actor.send({ type: "SAVEPOINT_FAILED", reason: String((err as Error)?.message ?? err) });
            reject(err);
          },
        );
      this.actor.send({ type: "STOP_WITH_SAVEPOINT" });
    });
  }

  // --- the machine's environment ------------------------------------------------------------

  private environment(): AdaptiveSchedulerEnvironment {
    return {
      hasDesiredResources: () => this.pool.size >= requiredSlots(this.requirements(), "upper"),
      hasSufficientResources: () => this.pool.size >= requiredSlots(this.requirements(), "lower"),
      declareResources: () => this.declare(requiredSlots(this.requirements(), "upper")),
      createExecutionGraph: () => this.createExecutionGraph(),
      deploy: () => this.deployAll(),
      shouldRescale: () => shouldRescale(this.currentParallelism(), this.possibleParallelism(), this.settings.minParallelismIncrease),
      cancelExecutionGraph: () => this.cancelAll(),
      allTasksTerminal: () => this.graph.terminalCount >= this.graph.totalSubtasks,
      triggerStopWithSavepoint: () => {
        const run = this.pendingStop;
        this.pendingStop = undefined;
        run?.();
      },
      finished: (status, cause) => this.finished(status, cause),
    };
  }

  private possibleParallelism(): VertexParallelism | undefined {
    return determineParallelism(this.requirements(), this.pool.size, this.forwardEdges);
  }

  private currentParallelism(): VertexParallelism {
    return new Map([...this.graph.jobVertices.values()].map((v) => [v.id, v.parallelism]));
  }

  private createExecutionGraph(): CreationOutcome {
    const p = this.possibleParallelism();
    if (!p) return { kind: "noResources" };
    try {
      this.graph.reinitialize(p);
      // Subtask i of every vertex of a slot sharing group shares that group's i-th slot.
      const free = this.pool.takeFree(this.pool.freeCount);
      const byGroup = new Map<string, PooledSlot[]>();
      let next = 0;
      for (const ejv of this.graph.jobVertices.values()) {
        const group = ejv.jobVertex.slotSharingGroup;
        let slots = byGroup.get(group);
        if (!slots) byGroup.set(group, (slots = []));
        for (const ev of ejv.taskVertices) {
          if (!slots[ev.subtaskIndex]) {
            const s = free[next++];
            if (!s) return { kind: "noResources" };
            slots[ev.subtaskIndex] = s;
          }
          this.pool.occupy(slots[ev.subtaskIndex]!, ev.currentExecution);
        }
      }
      // Slots beyond what every upper bound needs serve nobody: give them back (Flink's pool releases
      // slots above the job's requirements).
      if (this.pool.size > requiredSlots(this.requirements(), "upper")) for (const slot of this.pool.takeIdle(0, 0)) this.ctx.releaseSlot(slot);
      return { kind: "assigned" };
    } catch (err) {
      return { kind: "failed", cause: failureInfo(err) };
    }
  }

  private deployAll(): void {
    this.moveStatusTo("RUNNING");
    const parallelism = Object.fromEntries([...this.graph.jobVertices.values()].map((v) => [v.id, v.parallelism]));
    this.timeline.push({ at: Date.now(), parallelism, slots: this.pool.size });
    this.log.info({ parallelism, slots: this.pool.size }, "deploying at this parallelism");
    for (const e of this.graph.currentExecutions()) e.transitionTo("SCHEDULED");
    for (const e of this.graph.currentExecutions()) {
      const tdd = createTaskDeploymentDescriptor(this.graph, e, this.ctx.restoreFor?.(e));
      e.transitionTo("DEPLOYING");
      this.ctx.deploy(e, tdd).catch((err) => {
        this.log.warn({ err, task: String(e) }, "deployment failed");
        this.updateTaskExecutionState({ attemptId: e.attemptId, state: "FAILED", failure: failureInfo(err) });
      });
    }
  }

  private cancelAll(): void {
    this.ctx.failoverStarted?.();
    for (const e of this.graph.currentExecutions()) {
      const canceled = cancelExecution(e, this.ctx, this.log, () => {
        if (e.state === "CANCELING" && this.isCurrent(e)) {
          e.transitionTo("CANCELED");
          this.pool.vacate(e);
          this.checkTasks();
        }
      });
      if (canceled) this.pool.vacate(e);
    }
  }

  private finished(status: JobStatus, cause: FailureInfo | undefined): void {
    if (this.ended) return;
    this.ended = true;
    if (cause) this.graph.failureCause = cause;
    this.moveStatusTo(status);
    for (const s of this.pool.takeAll()) this.ctx.releaseSlot(s);
    this.declare(0);
    this.log.info({ status, rescales: this.actor.getSnapshot().context.rescales }, "adaptive scheduler finished");
    if (status !== "SUSPENDED") this.ctx.jobTerminated(status);
  }

  // --- bookkeeping ----------------------------------------------------------------------------

  private isCurrent(e: Execution): boolean {
    const ejv = this.graph.jobVertices.get(e.vertex.jobVertex.id);
    return ejv === e.vertex.jobVertex && ejv.taskVertices[e.vertex.subtaskIndex] === e.vertex;
  }

  private markFailed(e: Execution, cause: FailureInfo): void {
    this.graph.exceptionHistory.recordTaskFailure(e, cause);
    e.failure = cause;
    e.transitionTo("FAILED");
    this.pool.vacate(e);
    this.log.warn({ task: String(e), failure: cause.message }, "task failed");
  }

  private onFailure(cause: FailureInfo): void {
    const st = this.stateName;
    if (st !== "executing" && st !== "stopWithSavepoint") return; // already restarting, failing or canceling
    this.restart.notifyFailure(Date.now());
    const canRestart = this.restart.canRestart();
    const c = canRestart ? cause : { ...cause, message: `${cause.message} (restart strategy ${this.restart.describe()} allows no more restarts)` };
    this.actor.send({ type: "FAILURE", cause: c, canRestart, backoffMs: canRestart ? this.restart.getBackoffTime() : 0 });
  }

  private checkTasks(): void {
    if (this.ended) return;
    if (this.graph.finishedCount === this.graph.totalSubtasks) this.actor.send({ type: "ALL_TASKS_FINISHED" });
    else if (this.graph.terminalCount >= this.graph.totalSubtasks) this.actor.send({ type: "ALL_TASKS_TERMINAL" });
  }

  /** The job status the machine's state stands for (Flink's AdaptiveScheduler states → JobStatus). */
  private followStatus(value: unknown): void {
    const state = typeof value === "string" ? value : Object.keys(value as object)[0];
    const to: JobStatus | undefined = (
      { waitingForResources: "CREATED", restarting: "RESTARTING", failing: "FAILING", canceling: "CANCELLING" } as Record<string, JobStatus>
    )[state!];
    if (to && this.graph.state !== to) this.moveStatusTo(to);
  }

  /** Moves the job status to `to`, through CREATED where the status machine needs it. */
  private moveStatusTo(to: JobStatus): void {
    if (this.graph.state === to) return;
    if (!this.graph.canTransitionTo(to) && this.graph.canTransitionTo("CREATED")) this.graph.transitionTo("CREATED");
    if (this.graph.canTransitionTo(to)) this.graph.transitionTo(to);
    else this.log.warn({ from: this.graph.state, to }, "job status not moved");
  }

  private declare(n: number): void {
    if (n === this.declared) return;
    this.declared = n;
    this.ctx.declareRequiredSlots(n);
  }
}
