import type { NatsConnection } from "@nats-io/transport-node";
import { Actor, type MethodSpec } from "../../src/rpc/actor.js";
import { Gateway } from "../../src/rpc/gateway.js";
import { onReconnect } from "../../src/rpc/nats.js";
import type { Subjects } from "../../src/rpc/subjects.js";
import { EddyError, ErrorCode, FencingTokenError, NotFoundError, type FailureInfo } from "../../src/core/errors.js";
import { newSessionId } from "../../src/core/ids.js";
import { Timeouts } from "../../src/core/config.js";
import { deferred, withTimeout } from "../../src/core/time.js";
import type { Logger } from "../../src/core/logger.js";
import type { JobGraph } from "../../src/jobgraph/types.js";
import { chainOperators, graphInvokables } from "../../src/jobgraph/index.js";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";
import { ensureBlockingStream, PRODUCED_BYTES_ACCUMULATOR, releaseBlockingPartitions } from "../../src/network/index.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { kvReplicas } from "../../src/ha/index.js";
import type { ExecutionGraph } from "../../src/executiongraph/execution-graph.js";
import type { AssignedSlot, Execution } from "../../src/executiongraph/execution.js";
import type { TaskDeploymentDescriptor } from "../../src/deployment/descriptors.js";
import type { JobStatus } from "../../src/executiongraph/job-status.js";
import { createScheduler, type JobScheduler, type SchedulerFactoryOptions } from "./scheduler-factory.js";
import { AdaptiveScheduler, type ParallelismBounds } from "../../src/scheduler/adaptive/adaptive-scheduler.js";
import type { JobResult } from "../../src/ha/job-result-store.js";
import { s } from "../../src/schema/index.js";
import {
  AcknowledgeCheckpoint,
  DeclineCheckpoint,
  DeclinePendingCheckpoints,
  DisconnectTaskManager,
  OfferSlots,
  TaskNotice,
  UpdateTaskExecutionState,
  type JobDetails,
} from "./protocol.js";
import { JobCheckpointing } from "./job-checkpointing.js";
import type { SubtaskStateSnapshot } from "../../src/checkpoint/types.js";
import { jobDetails, jobPlan, type JobViews } from "./job-details.js";
import { JobMetricsReporter } from "./job-metrics-reporter.js";

/** Settings of a JobMaster: its scheduler's, and the leadership check of its JobManager. */
export type JobMasterOptions = SchedulerFactoryOptions & {
  /** True while the JobManager holds the leader lease; completed checkpoints are recorded only then. */
  isLeader?: () => boolean;
  /** The host of a registered TaskExecutor (for the exception history's locations). */
  taskExecutorHost?: (taskExecutorId: string) => Promise<string | undefined>;
};

/** What the JobMaster needs to reach the ResourceManager. */
export interface ResourceManagerConnection {
  gateway(): Gateway | undefined;
}

/**
 * The JobMaster of one job (Flink's JobMaster): builds the ExecutionGraph, declares slot needs to
 * the ResourceManager, accepts slots offered by TaskExecutors, deploys tasks through the scheduler
 * and follows their state to a terminal job status. Fenced by its own session id, which every
 * TaskExecutor that holds a slot of this job must present.
 */
export class JobMaster extends Actor {
  readonly address: string;
  /** The JobMaster's session id: the fencing token of the JM ↔ TM sessions of this job. */
  readonly token = newSessionId();
  readonly graph: ExecutionGraph;
  private readonly scheduler: JobScheduler;
  private readonly registered = new Set<string>();
  private readonly result = deferred<JobResult>();
  readonly startTime = Date.now();
  private readonly checkpointing: JobCheckpointing;
  private endTime: number | null = null;
  private stopReconnectWatch: (() => void) | undefined;
  /** True while the JobManager running this JobMaster holds its lease. */
  private readonly isLeader: () => boolean;
  /** Hosts of the TaskExecutors that offered slots, kept after their loss (exception locations). */
  private readonly teHosts = new Map<string, string>();
  private readonly taskExecutorHost: JobMasterOptions["taskExecutorHost"];
  private metrics: JobMetricsReporter | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    jobGraph: JobGraph,
    private readonly rm: ResourceManagerConnection,
    log: Logger,
    opts: JobMasterOptions = {},
  ) {
    super();
    this.address = subjects.jobMaster(jobGraph.jobId);
    this.log = log.child({ actor: "JobMaster", jobId: jobGraph.jobId });
    // Operator chaining happens here, on the validated graph: forward-connected operators of equal
    // parallelism become one task (Flink's StreamingJobGraphGenerator does it before submission).
    // The scheduler factory (Flink's DefaultSlotPoolServiceSchedulerFactory) picks the scheduler
    // from the job's config and the cluster's options, and builds the ExecutionGraph it needs.
    const { graph, scheduler } = createScheduler(
      chainOperators(jobGraph, graphInvokables(jobGraph.bundle, builtinRegistry)),
      {
        declareRequiredSlots: (n) => this.declare(n),
        deploy: (e, tdd) => this.deploy(e, tdd),
        cancelTask: (e) =>
          this.teGateway(e)
            .ask("cancelTask", { attemptId: e.attemptId }, { timeoutMs: Timeouts.rpc })
            .then(() => undefined),
        releaseSlot: (slot) => this.releaseSlot(slot),
        restoreFor: (e) => this.checkpointing.restoreFor(e),
        failoverStarted: () => this.checkpointing.failoverStarted(),
        releasePartitions: (ids) => this.background(releaseBlockingPartitions(this.nc, this.subjects, this.graph.jobId, ids)),
        jobTerminated: (st) => this.terminated(st),
        schedule: (ms, fn) => {
          const t = this.schedule(ms, fn);
          return () => this.cancelTimer(t);
        },
      },
      this.log,
      opts,
    );
    this.graph = graph;
    this.scheduler = scheduler;
    // Bounds declared before a JobManager failover (kept with the JobGraph) hold again.
    if (scheduler instanceof AdaptiveScheduler)
      for (const [vertexId, bounds] of Object.entries(jobGraph.config.resourceRequirements ?? {})) {
        try {
          scheduler.updateRequirements(vertexId, bounds);
        } catch (err) {
          this.log.warn({ err, vertexId }, "stored parallelism bounds no longer apply");
        }
      }
    this.isLeader = opts.isLeader ?? (() => true);
    this.taskExecutorHost = opts.taskExecutorHost;
    this.graph.exceptionHistory.hostOf = (id) => this.teHosts.get(id);
    this.checkpointing = new JobCheckpointing(nc, subjects, this.graph, this.token, this.log, this.isLeader);
  }

  protected override fencingToken(): string {
    return this.token;
  }

  /** Resolves with the JobResult once the job is globally terminal. */
  get resultFuture(): Promise<JobResult> {
    return this.result.promise;
  }

  /** Starts serving and scheduling. */
  async start(): Promise<void> {
    const schedule = (ms: number, fn: () => void) => {
      const h = this.schedule(ms, fn);
      return () => this.cancelTimer(h);
    };
    await this.checkpointing.open(schedule, (reason) =>
      this.scheduler.failGlobal({ code: ErrorCode.TaskFailed, name: "CheckpointException", message: reason }),
    );
    // Workers may create no stream (docs/security.md): the job's BLOCKING partitions' stream is made here.
    if (this.graph.results.some((r) => r.resultPartitionType === "BLOCKING"))
      await ensureBlockingStream(await jetstreamManager(this.nc), this.subjects, this.graph.jobId, kvReplicas(this.nc));
    // Reading the checkpoints took round trips: a term that ended meanwhile deploys nothing.
    if (!this.isLeader()) throw new EddyError(ErrorCode.NotLeader, `job ${this.graph.jobId} not started: the JobManager no longer leads`);
    this.serve(this.nc, { service: { role: "jobmaster", metadata: { job_id: this.graph.jobId, job_name: this.graph.jobName } } });
    // A checkpoint trigger or acknowledgement in flight when this connection lost its server is gone:
    // the checkpoints waiting for one end now rather than at their timeout.
    this.stopReconnectWatch = onReconnect(
      this.nc,
      () =>
        void this.runInMailbox(() =>
          this.checkpointing.coordinator?.abortAll("the JobMaster's NATS connection was re-established; checkpoint messages may be lost"),
        ).catch((err: unknown) => this.log.warn({ err }, "aborting checkpoints after a reconnect failed")),
    );
    await this.runInMailbox(() => {
      this.log.info({ name: this.graph.jobName, tasks: this.graph.totalSubtasks }, "JobMaster started");
      this.scheduler.startScheduling();
      this.checkpointing.start();
    });
    this.metrics = JobMetricsReporter.start(
      this.nc,
      this.subjects,
      { graph: this.graph, scheduler: this.scheduler, checkpointing: this.checkpointing },
      this.log,
    );
  }

  protected methods(): Record<string, MethodSpec> {
    return {
      offerSlots: { fence: "leader", parse: s.parser(OfferSlots), handle: (b: OfferSlots, ctx) => this.offerSlots(b, ctx.sender) },
      updateTaskExecutionState: {
        fence: "leader",
        parse: s.parser(UpdateTaskExecutionState),
        handle: (b: UpdateTaskExecutionState) => {
          if (!this.scheduler.updateTaskExecutionState(b))
            throw new NotFoundError(ErrorCode.TaskNotFound, `job ${this.graph.jobId} has no attempt ${b.attemptId}`);
          this.checkpointing.taskStateChanged(b.attemptId, b.state);
          return { ok: true };
        },
      },
      // Sent by the ResourceManager, which knows this session from the job's slot declaration.
      disconnectTaskManager: {
        fence: "leader",
        parse: s.parser(DisconnectTaskManager),
        handle: (b: DisconnectTaskManager) => this.disconnect(b.taskExecutorId, b.reason),
      },
      requestJobDetails: { fence: "leader", handle: () => this.details() },
      // Sent by the job's Tasks, which got this session's token with their deployment.
      acknowledgeCheckpoint: {
        fence: "leader",
        parse: s.parser(AcknowledgeCheckpoint),
        handle: (b: AcknowledgeCheckpoint) => (
          this.checkpointing.coordinator?.acknowledge(b.attemptId, b.checkpointId, b.snapshot as SubtaskStateSnapshot), { ok: true }
        ),
      },
      taskEndOfInput: {
        fence: "leader",
        parse: s.parser(TaskNotice),
        handle: (b: TaskNotice) => (this.checkpointing.taskEndOfInput(b.attemptId), { ok: true }),
      },
      taskFinished: {
        fence: "leader",
        parse: s.parser(TaskNotice),
        handle: (b: TaskNotice) => (this.checkpointing.taskFinished(b.attemptId), { ok: true }),
      },
      declineCheckpoint: {
        fence: "leader",
        parse: s.parser(DeclineCheckpoint),
        handle: (b: DeclineCheckpoint) => (this.checkpointing.coordinator?.decline(b.attemptId, b.checkpointId, b.reason, b.failureReason), { ok: true }),
      },
      declinePendingCheckpoints: {
        fence: "leader",
        parse: s.parser(DeclinePendingCheckpoints),
        handle: (b: DeclinePendingCheckpoints) => (this.checkpointing.coordinator?.declineAll(b.attemptId, b.reason), { ok: true }),
      },
    };
  }

  /** The job's details (in-process use by the Dispatcher). */
  details(): JobDetails {
    return jobDetails(this.graph, this.startTime, this.endTime, this.checkpointing.coordinator?.stats);
  }

  /** The job's exception history, checkpoint statistics and plan (in-process use by the Dispatcher). */
  views(): JobViews {
    return { exceptions: this.graph.exceptionHistory.view(), checkpoints: this.checkpointing.statsTracker.view(), plan: jobPlan(this.graph) };
  }

  /** Takes a savepoint (with `stop`: then the job drains to FINISHED); resolves with its id. */
  triggerSavepoint(stop = false): Promise<string> {
    // Started in the mailbox, awaited outside it: the acknowledgements must get in meanwhile.
    const viaScheduler = stop ? this.scheduler.stopWithSavepoint?.bind(this.scheduler) : undefined;
    const run = () => this.checkpointing.savepoint(stop);
    return this.runInMailbox(() => ({ done: viaScheduler ? viaScheduler(run) : run() })).then((r) => r.done);
  }

  /**
   * Declares a vertex's parallelism bounds (in-process use by the Dispatcher's rescaleJob); only the
   * adaptive scheduler can change a running job's parallelism.
   */
  rescale(vertexId: string, bounds: Partial<ParallelismBounds>): Promise<{ vertexId: string } & ParallelismBounds> {
    return this.runInMailbox(() => {
      const sch = this.scheduler;
      if (!(sch instanceof AdaptiveScheduler))
        throw new EddyError(
          ErrorCode.RescaleNotSupported,
          `job ${this.graph.jobId} runs on the ${this.graph.jobGraph.config.scheduler ?? "default"} scheduler; only the adaptive scheduler rescales (eddy jobmanager --scheduler adaptive, or config.scheduler "adaptive")`,
        );
      return sch.updateRequirements(vertexId, bounds);
    });
  }

  /** Cancels the job (in-process use by the Dispatcher). */
  cancel(): Promise<void> {
    return this.runInMailbox(() => this.scheduler.cancel());
  }

  private offerSlots(b: OfferSlots, sender: string | undefined) {
    if (sender !== undefined && sender !== b.taskExecutorId) throw new FencingTokenError(`sender ${sender} offers slots of ${b.taskExecutorId}`);
    this.registered.add(b.taskExecutorId);
    this.learnHost(b.taskExecutorId);
    const slots: AssignedSlot[] = b.slots.map((x) => ({ allocationId: x.allocationId, taskExecutorId: b.taskExecutorId, slotIndex: x.slotIndex }));
    this.log.debug({ taskExecutor: b.taskExecutorId, slots: slots.length }, "slots offered");
    this.scheduler.newSlotsAvailable(slots);
    return { accepted: slots.map((x) => x.allocationId) };
  }

  /** Looks up a TaskExecutor's host once, off the mailbox (the ResourceManager knows it). */
  private learnHost(teId: string): void {
    if (this.teHosts.has(teId) || !this.taskExecutorHost) return;
    this.teHosts.set(teId, ""); // looked up once
    this.background(
      this.taskExecutorHost(teId).then(
        (host) => void (host ? this.teHosts.set(teId, host) : this.teHosts.delete(teId)),
        () => void this.teHosts.delete(teId),
      ),
    );
  }

  private disconnect(teId: string, reason: string) {
    this.registered.delete(teId);
    const cause: FailureInfo = { code: ErrorCode.TaskExecutorLost, name: "EddyError", message: `TaskExecutor ${teId} lost: ${reason}` };
    this.scheduler.taskExecutorLost(teId, cause);
    return { ok: true };
  }

  /**
   * Sends `tdd` to the slot's TaskExecutor. While a checkpoint that completed as the failover began
   * is still being recorded, the deployment waits for it and restores from the checkpoint latest then.
   */
  private async deploy(e: Execution, tdd: TaskDeploymentDescriptor): Promise<void> {
    const recording = this.checkpointing.completionsSettled();
    if (recording) {
      await withTimeout(recording, Timeouts.rpc, "recording the checkpoint a deployment restores from");
      const { restore: _, ...rest } = tdd;
      const restore = this.checkpointing.restoreFor(e);
      tdd = restore ? { ...rest, restore } : rest;
    }
    await this.teGateway(e).ask("submitTask", tdd, { timeoutMs: Timeouts.rpc });
  }

  private teGateway(e: Execution): Gateway {
    return new Gateway(this.nc, this.subjects.taskExecutor(e.slot!.taskExecutorId), { token: this.token, sender: this.graph.jobId });
  }

  private declare(n: number): void {
    const rm = this.rm.gateway();
    if (!rm) return void this.log.warn("no ResourceManager to declare slots to");
    this.background(
      rm
        .ask("declareRequiredResources", { jobId: this.graph.jobId, jobMasterToken: this.token, slots: n })
        .catch((err) => this.log.warn({ err }, "declaring resources failed")),
    );
  }

  private releaseSlot(slot: AssignedSlot): void {
    new Gateway(this.nc, this.subjects.taskExecutor(slot.taskExecutorId), { token: this.token, sender: this.graph.jobId }).tell("freeSlot", {
      allocationId: slot.allocationId,
    });
  }

  private terminated(state: JobStatus): void {
    this.endTime = Date.now();
    const accumulators: Record<string, number> = {};
    for (const e of this.graph.currentExecutions())
      for (const [k, v] of Object.entries(e.accumulators)) if (!k.startsWith(PRODUCED_BYTES_ACCUMULATOR)) accumulators[k] = (accumulators[k] ?? 0) + v;
    const f = this.graph.failureCause;
    this.log.info({ state, netRuntimeMs: this.endTime - this.startTime }, "job reached terminal state");
    this.background(this.checkpointing.jobEnded(state).catch((err) => this.log.warn({ err }, "cleaning up checkpoints failed")));
    // Globally terminal: nobody will read the job's BLOCKING partitions again (unless this JobManager
    // lost its lease: then the job is the new leader's, partitions included).
    if (this.isLeader() && this.graph.results.some((r) => r.resultPartitionType === "BLOCKING"))
      this.background(
        releaseBlockingPartitions(this.nc, this.subjects, this.graph.jobId).catch((err) => this.log.warn({ err }, "releasing BLOCKING partitions failed")),
      );
    this.result.resolve({
      jobId: this.graph.jobId,
      name: this.graph.jobName,
      state,
      startTime: this.startTime,
      endTime: this.endTime,
      netRuntimeMs: this.endTime - this.startTime,
      accumulators,
      failure: f ? { ...f } : null,
    });
  }

  /** Stops the JobMaster; a job that has not ended is suspended and its tasks canceled. */
  async stop(): Promise<void> {
    this.stopReconnectWatch?.();
    await this.runInMailbox(() => this.scheduler.suspend()).catch((err: unknown) => this.log.warn({ err }, "suspending the scheduler failed"));
    this.metrics?.stop();
    if (this.endTime === null)
      await this.checkpointing.jobEnded("SUSPENDED").catch((err: unknown) => this.log.warn({ err }, "ending checkpointing of the suspended job failed"));
    await this.stopActor();
    this.graph.dispose();
  }
}
