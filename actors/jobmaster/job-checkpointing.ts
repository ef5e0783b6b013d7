/**
 * The JobMaster's checkpointing: the CheckpointCoordinator wired to the HA stores (checkpoint id
 * counter and completed checkpoints in KV, state in the Object Store, savepoints) and to the tasks
 * (trigger, notify). Also answers which state a (re)deployed task restores.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../src/core/logger.js";
import { orTimeout } from "../../src/core/time.js";
import { Gateway } from "../../src/rpc/gateway.js";
import type { Subjects } from "../../src/rpc/subjects.js";
import { EddyError, ErrorCode, NotFoundError } from "../../src/core/errors.js";
import type { TaskRestore } from "../../src/deployment/descriptors.js";
import type { Execution } from "../../src/executiongraph/execution.js";
import type { ExecutionGraph } from "../../src/executiongraph/execution-graph.js";
import { isGloballyTerminal, type JobStatus } from "../../src/executiongraph/job-status.js";
import { CheckpointCoordinator } from "../../src/checkpoint/checkpoint-coordinator.js";
import { assignState } from "../../src/checkpoint/state-assignment.js";
import {
  CheckpointIdCounter,
  CheckpointStatsTracker,
  CheckpointStorage,
  CompletedCheckpointStore,
  SavepointStore,
  savepointIdOf,
  snapshotPrefix,
} from "../../src/checkpoint/index.js";
import type { CompletedCheckpoint, SnapshotKind } from "../../src/checkpoint/types.js";

/** The operators (chain members, or the vertex itself) a task of `e` runs. */
export function operatorIdsOf(e: Execution): string[] {
  const v = e.vertex.jobVertex.jobVertex;
  if (v.invokable === "eddy.chain") return ((v.config.members ?? []) as Array<{ id: string }>).map((m) => m.id);
  return [v.id];
}

export class JobCheckpointing {
  coordinator: CheckpointCoordinator | undefined;
  private storage!: CheckpointStorage;
  private store!: CompletedCheckpointStore;
  private savepoints!: SavepointStore;
  private counter!: CheckpointIdCounter;
  /** The state new deployments start from: the latest checkpoint, else the savepoint the job was submitted with. */
  private restoreFrom: CompletedCheckpoint | undefined;
  /** Checkpoint counts, history and settings for the REST API. */
  readonly statsTracker: CheckpointStatsTracker;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly graph: ExecutionGraph,
    private readonly token: string,
    private readonly log: Logger,
    /** True while the JobManager leads; a former leader records no completed checkpoint. */
    private readonly isLeader: () => boolean = () => true,
  ) {
    this.statsTracker = new CheckpointStatsTracker(graph.jobGraph.config.checkpointing);
  }

  /** Opens the stores; finds the checkpoint or savepoint to start from. */
  async open(schedule: (ms: number, fn: () => void) => () => void, failJob: (reason: string) => void): Promise<void> {
    const cfg = this.graph.jobGraph.config;
    const jobId = this.graph.jobId;
    // A job that neither checkpoints nor starts from a savepoint has no state to restore or write:
    // it touches no checkpoint store (each open is a round trip on the way to RUNNING).
    if (!cfg.checkpointing && !cfg.savepoint) return;
    // Opened at once: each open is a JetStream round trip, and they sit on the way to RUNNING.
    [this.storage, this.savepoints, this.counter, this.store] = await Promise.all([
      CheckpointStorage.open(this.nc, this.subjects),
      SavepointStore.open(this.nc, this.subjects),
      CheckpointIdCounter.open(this.nc, this.subjects, jobId),
      CompletedCheckpointStore.open(this.nc, this.subjects, jobId, { retain: cfg.checkpointing?.retain ?? 1 }),
    ]);
    this.restoreFrom = await this.store.latest();
    if (!this.restoreFrom && cfg.savepoint) {
      const sp = await this.savepoints.get(cfg.savepoint);
      if (!sp) throw new NotFoundError(ErrorCode.JobNotFound, `no savepoint ${cfg.savepoint}`);
      this.restoreFrom = sp;
    }
    if (this.restoreFrom) this.statsTracker.reportRestored(this.restoreFrom);
    if (!cfg.checkpointing) return;
    this.coordinator = new CheckpointCoordinator(
      this.graph,
      cfg.checkpointing,
      {
        // A former leader advances no counter: after the job's end that write would re-create the key.
        nextCheckpointId: () =>
          this.isLeader()
            ? this.track(this.counter.getAndIncrement())
            : Promise.reject(new EddyError(ErrorCode.NotLeader, "no checkpoint id taken: the JobManager no longer leads")),
        complete: (cp) =>
          this.trackCompletion(
            (async () => {
              if (!this.isLeader()) throw new EddyError(ErrorCode.NotLeader, `checkpoint ${cp.checkpointId} not recorded: the JobManager no longer leads`);
              if (cp.kind === "SAVEPOINT") await this.savepoints.add({ ...cp, savepointId: savepointIdOf(jobId, cp.checkpointId) });
              else {
                await this.store.add(cp, this.storage, this.isLeader);
                // Several checkpoints in flight may complete out of order: restore from the newest.
                if (!(this.restoreFrom?.kind === "CHECKPOINT" && this.restoreFrom.checkpointId > cp.checkpointId)) this.restoreFrom = cp;
              }
            })(),
          ),
        discard: (id, kind) => {
          const prefix = snapshotPrefix(jobId, id, kind);
          void this.storage.deletePrefix(prefix).catch((err) => this.log.warn({ err, prefix }, "discarding checkpoint state failed"));
        },
        triggerTask: (e, checkpointId, timestamp, kind, stop) =>
          this.task(e).tell("triggerCheckpoint", { checkpointId, timestamp, kind, ...(stop ? { stop } : {}) }),
        notifyComplete: (e, checkpointId) => this.task(e).tell("notifyCheckpointComplete", { checkpointId }),
        notifyAborted: (e, checkpointId) => this.task(e).tell("notifyCheckpointAborted", { checkpointId }),
        failJob,
        schedule,
        operatorIds: operatorIdsOf,
        statsTracker: this.statsTracker,
      },
      this.log,
      this.restoreFrom,
    );
  }

  /** A failover resets tasks: in-flight checkpoints cannot complete; the new attempts restore the latest state. */
  failoverStarted(): void {
    this.coordinator?.abortAll("a failover resets the tasks");
    if (this.restoreFrom) this.statsTracker.reportRestored(this.restoreFrom);
  }

  /** A task's state changed (FLIP-147: tasks fed only by FINISHED ones are triggered directly). */
  taskStateChanged(attemptId: string, state: string): void {
    if (state === "FINISHED") this.coordinator?.producerFinished(attemptId);
    else if (state === "RUNNING") this.coordinator?.taskRunning();
  }

  /** A task acknowledged every checkpoint it took and finishes: pending ones count it as finished. */
  taskFinished(attemptId: string): void {
    this.coordinator?.taskFinished(attemptId);
  }

  /** A task reached its end of input and waits for its final checkpoint. */
  taskEndOfInput(attemptId: string): void {
    this.coordinator?.taskEndOfInput(attemptId);
  }

  /** Starts periodic checkpoints. */
  start(): void {
    this.coordinator?.start();
  }

  /** When a deployment last restored state from a checkpoint or savepoint, ms since the epoch (-1: never). */
  lastRestoreTimestamp = -1;

  /** The state a task of `e` restores, if any. */
  restoreFor(e: Execution): TaskRestore | undefined {
    if (!this.restoreFrom) return undefined;
    this.lastRestoreTimestamp = Date.now();
    const ejv = e.vertex.jobVertex;
    return assignState(this.restoreFrom, operatorIdsOf(e), e.vertex.subtaskIndex, ejv.parallelism, ejv.maxParallelism);
  }

  /** Takes a savepoint now (with `stop`: the sources end right after it); resolves with its id. */
  async savepoint(stop = false): Promise<string> {
    if (!this.coordinator) throw new NotFoundError(ErrorCode.JobNotFound, "the job does not checkpoint; savepoints need config.checkpointing");
    this.coordinator.stopPeriodic();
    let cp: CompletedCheckpoint;
    try {
      cp = await this.coordinator.trigger("SAVEPOINT" as SnapshotKind, { stop });
    } catch (err) {
      // A failed stop-with-savepoint leaves the job running: it checkpoints on (its sinks need final checkpoints).
      this.coordinator.resumePeriodic();
      throw err;
    }
    if (!stop) this.coordinator.resumePeriodic();
    // Stop-with-savepoint: the job drains, and every task that commits on checkpoints finishes only
    // after the savepoint's completion committed it (its final checkpoint, FLIP-147). Asking them
    // here would race their ending.
    if (stop) return savepointIdOf(this.graph.jobId, cp.checkpointId);
    // Wait until every task has committed what the savepoint covers.
    await Promise.all(
      [...this.graph.currentExecutions()]
        // A task at its end of input may finish on this very completion: it is not asked (FLIP-147).
        .filter((e) => !e.isTerminal && !this.coordinator!.endedInputOf(e.attemptId))
        .map((e) =>
          this.task(e)
            .ask("notifyCheckpointComplete", { checkpointId: cp.checkpointId }, { timeoutMs: 30_000 })
            .catch((err: unknown) => this.log.debug({ err, attempt: e.attemptId }, "a task missed a checkpoint-complete notice")),
        ),
    );
    return savepointIdOf(this.graph.jobId, cp.checkpointId);
  }

  /**
   * The job ended here: stop; a globally terminal job's checkpoints are deleted, a suspended one's kept.
   * Only a leader deletes: a JobMaster whose JobManager lost its lease may still reach a terminal state
   * (its tasks are gone), while the new leader runs the job from these very checkpoints.
   */
  async jobEnded(state: JobStatus): Promise<void> {
    this.coordinator?.stop(`job ${state}`);
    // A checkpoint id or completion still being written would re-create what the shutdown removes.
    await orTimeout(Promise.allSettled([...this.inflight]), 30_000);
    if (!this.store) return;
    const remove = isGloballyTerminal(state) && this.isLeader();
    if (isGloballyTerminal(state) && !remove) this.log.warn({ state }, "the job ended under a JobManager that no longer leads: its checkpoints are kept");
    await this.store.shutdown(remove, this.storage);
  }

  private readonly inflight = new Set<Promise<unknown>>();
  private readonly completing = new Set<Promise<unknown>>();

  /**
   * Settles once no completed checkpoint is still being recorded, or `undefined` when none is (the
   * common case: no await). A deployment that waits for it restores from the checkpoint that is
   * latest then; one recorded after the deployment would otherwise be restored by nobody and
   * committed by its sinks on the next failover, beside what the new tasks emit again.
   */
  completionsSettled(): Promise<void> | undefined {
    if (this.completing.size === 0) return undefined;
    return Promise.allSettled([...this.completing]).then(() => undefined);
  }

  private trackCompletion<T>(p: Promise<T>): Promise<T> {
    this.completing.add(p);
    void p.finally(() => this.completing.delete(p)).catch(() => undefined); // the caller of track() sees the failure
    return this.track(p);
  }

  /** Remembers a store operation until it settles (the job's shutdown waits for them). */
  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => undefined); // the caller sees the failure; this copy only untracks
    return p;
  }

  private task(e: Execution): Gateway {
    return new Gateway(this.nc, this.subjects.task(e.attemptId), { token: this.token, sender: this.graph.jobId });
  }
}
