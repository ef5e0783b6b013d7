import type { NatsConnection } from "@nats-io/transport-node";
import { Actor, later, requireToken, type MethodSpec } from "../../src/rpc/actor.js";
import { Gateway } from "../../src/rpc/gateway.js";
import { s, type Infer } from "../../src/schema/index.js";
import { TaskStateManager, type SnapshotStorage } from "../../src/checkpoint/task/index.js";
import { createTaskContext } from "./task-context.js";
import type { Subjects } from "../../src/rpc/subjects.js";
import { ErrorCode, EddyError, failureInfo, type FailureInfo } from "../../src/core/errors.js";
import type { Logger } from "../../src/core/logger.js";
import { expandInputGate, type TaskDeploymentDescriptor } from "../../src/deployment/descriptors.js";
import { executionStates, type ExecutionState } from "../../src/executiongraph/execution-state.js";
import { EndOfInputSignal, type Accumulator, type Invokable, type RecordInput, type RecordOutput } from "../../src/runtime/api.js";
import type { NetworkEnvironment } from "../../src/network/index.js";
import { PRODUCED_BYTES_ACCUMULATOR } from "../../src/network/index.js";
import { checkSameVertices, validateBundleInvokable, type JobCode } from "../../src/usercode/index.js";
import { TaskMetrics } from "./task-metrics.js";
import { keySelectorOf } from "../../src/runtime/streaming/stream-operator.js";
import type { SlotMetrics } from "./slot-metrics.js";

const TriggerCheckpoint = s.object({
  checkpointId: s.int({ min: 1 }),
  timestamp: s.int({ min: 0 }),
  kind: s.oneOf(["CHECKPOINT", "SAVEPOINT"] as const),
  stop: s.optional(s.bool),
});
type TriggerCheckpoint = Infer<typeof TriggerCheckpoint>;
const CheckpointNotice = s.object({ checkpointId: s.int({ min: 1 }) });
type CheckpointNotice = Infer<typeof CheckpointNotice>;

/** Reports a task's state changes (to the TaskExecutor, which forwards them to the JobMaster). */
export type TaskStateListener = (state: ExecutionState, failure?: FailureInfo, accumulators?: Record<string, number>) => void;

/**
 * One running subtask (Flink's Task): sets up its network inputs and outputs, runs its invokable
 * — `restore` in INITIALIZING, then `invoke` in RUNNING — and reports every state change. A
 * fenced actor at `<prefix>.task.<attemptId>`: only its JobMaster's session may cancel it.
 */
export class Task extends Actor {
  readonly address: string;
  private state: ExecutionState = "DEPLOYING";
  private readonly abort = new AbortController();
  private readonly accumulators = new Map<string, number>();
  private done: Promise<void> | undefined;
  private stateManager: TaskStateManager | undefined;
  /** Present unless metrics are off. */
  private readonly metrics: TaskMetrics | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    readonly tdd: TaskDeploymentDescriptor,
    private readonly jobMasterToken: string,
    /** The job's code (built-ins, or the job's bundle loaded by the worker's LibraryCacheManager). */
    private readonly code: Promise<JobCode>,
    private readonly network: NetworkEnvironment,
    private readonly report: TaskStateListener,
    log: Logger,
    /** The worker's checkpoint storage (opened on first use). */
    private readonly storage: () => Promise<SnapshotStorage>,
    /** The slot thread's metric registry (absent: metrics off). */
    private readonly slotMetrics?: SlotMetrics,
  ) {
    super();
    if (slotMetrics) {
      this.metrics = new TaskMetrics(tdd, network.cfg);
      slotMetrics.add(this.metrics);
    }
    this.address = subjects.task(tdd.attemptId);
    this.log = log.child({ task: `${tdd.vertexName} (${tdd.subtaskIndex + 1}/${tdd.parallelism})`, attemptId: tdd.attemptId });
  }

  protected methods(): Record<string, MethodSpec> {
    const fence = (ctx: { token: string | undefined }) => requireToken(ctx.token, this.jobMasterToken, `task ${this.tdd.attemptId}`);
    return {
      cancel: { fence, handle: () => (this.cancel(), { ok: true }) },
      getState: { fence, handle: () => ({ state: this.state }) },
      triggerCheckpoint: {
        fence,
        parse: s.parser(TriggerCheckpoint),
        handle: (b: TriggerCheckpoint) => (
          this.stateManager?.trigger({ checkpointId: b.checkpointId, timestamp: b.timestamp, kind: b.kind }, b.stop === true), { ok: true }
        ),
      },
      notifyCheckpointComplete: {
        fence,
        parse: s.parser(CheckpointNotice),
        handle: (b: CheckpointNotice) =>
          later(
            (this.stateManager?.notifyComplete(b.checkpointId) ?? Promise.resolve()).then(
              () => ({ ok: true }),
              (err: unknown) => {
                this.commitFailed(b.checkpointId, err);
                throw err;
              },
            ),
          ),
      },
      notifyCheckpointAborted: {
        fence,
        parse: s.parser(CheckpointNotice),
        handle: (b: CheckpointNotice) => (this.stateManager?.notifyAborted(b.checkpointId), { ok: true }),
      },
    };
  }

  get executionState(): ExecutionState {
    return this.state;
  }

  /** Starts the task; resolves when it reached a final state. */
  start(): Promise<void> {
    this.serve(this.nc);
    this.done = this.run();
    return this.done;
  }

  /**
   * The worker's NATS connection was re-established. A task exchanging data over NATS with another
   * TaskExecutor fails with `RemoteLinkInterrupted` (a lost buffer or credit would stall its link;
   * the failover restores it from the latest checkpoint). Otherwise a checkpoint trigger to this task
   * or its acknowledgement may have been lost with the server, so the JobMaster is told to decline
   * every checkpoint still waiting for it (the next one comes at the next interval), and a task
   * waiting for its final checkpoint asks for one again.
   */
  connectionRestored(): void {
    if (executionStates.isFinal(this.state) || this.state === "CANCELING") return;
    if (this.network.usesRemoteLinks(this.tdd.attemptId)) {
      // A buffer or credit lost with the server would stall the link for good (credit-based flow
      // control waits for it): the task fails, and the failover restores it from the checkpoint.
      this.abort.abort(
        new EddyError(
          ErrorCode.RemoteLinkInterrupted,
          "the task's NATS connection lost its server while exchanging data with another TaskExecutor; buffers or credits may be lost",
        ),
      );
      return;
    }
    if (!this.tdd.checkpointing) return;
    this.jobMaster().tell("declinePendingCheckpoints", {
      attemptId: this.tdd.attemptId,
      reason: "the task's NATS connection was re-established; checkpoint messages may be lost",
    });
    this.stateManager?.connectionRestored();
  }

  /**
   * An operator could not commit a completed checkpoint (a sink's publish or rename failed for good).
   * The JobMaster only tells, so nobody would hear of it: the task fails instead (as Flink fails a
   * task whose notifyCheckpointComplete throws), and the restore from that checkpoint commits again
   * what its state still holds.
   */
  private commitFailed(checkpointId: number, err: unknown): void {
    if (executionStates.isFinal(this.state) || this.abort.signal.aborted) return;
    const why = err instanceof Error ? err.message : String(err);
    this.abort.abort(new EddyError(ErrorCode.TaskFailed, `committing checkpoint ${checkpointId} failed: ${why}`, { cause: err }));
  }

  /** The job's JobMaster, addressed with this attempt's fencing token. */
  private jobMaster(): Gateway {
    return new Gateway(this.nc, this.subjects.jobMaster(this.tdd.jobId), { token: this.jobMasterToken, sender: this.tdd.attemptId });
  }

  /** Cancels the task: the invokable sees its signal abort; the task ends CANCELED. */
  cancel(): void {
    if (executionStates.isFinal(this.state) || this.state === "CANCELING") return;
    this.transition("CANCELING");
    this.abort.abort(new EddyError(ErrorCode.Shutdown, "task canceled"));
  }

  private async run(): Promise<void> {
    const tdd = this.tdd;
    let invokable: Invokable;
    try {
      // DEPLOYING: the job's code first (Flink's Task gets its user code class loader here).
      const code = await this.untilCanceled(this.code);
      checkSameVertices(code, tdd);
      const factory = code.registry.lookup(tdd.invokable);
      // The Dispatcher never sees a bundle's invokables: their settings are checked here.
      if (code.custom.has(tdd.invokable)) validateBundleInvokable(factory, tdd.config, tdd.vertexId);
      this.throwIfCanceled();
      this.transition("INITIALIZING");
      const storage = tdd.checkpointing || tdd.restore ? await this.storage() : undefined;
      const jm = this.jobMaster();
      this.stateManager = new TaskStateManager(
        tdd,
        storage,
        {
          acknowledge: (checkpointId, snapshot) => {
            this.metrics?.acknowledged(snapshot);
            jm.tell("acknowledgeCheckpoint", { attemptId: tdd.attemptId, checkpointId, snapshot });
          },
          decline: (checkpointId, message, reason) =>
            jm.tell("declineCheckpoint", { attemptId: tdd.attemptId, checkpointId, reason: message, failureReason: reason }),
          endOfInput: () => jm.tell("taskEndOfInput", { attemptId: tdd.attemptId }),
          finished: () => jm.tell("taskFinished", { attemptId: tdd.attemptId }),
        },
        this.log,
      );
      const state = this.stateManager;
      await state.prefetch();
      const userCode = code.userCode;
      const output = this.network.createOutput(tdd.attemptId, tdd.outputs, {
        bufferTimeoutMs: tdd.bufferTimeoutMs,
        bufferRecords: tdd.bufferRecords,
        signal: this.abort.signal,
        jobId: tdd.jobId,
        ...(this.metrics ? { timer: this.metrics.timer } : {}),
        ...(userCode ? { keySelector: (ref: string) => keySelectorOf(userCode, ref) } : {}),
      });
      const input = this.network.createInput(tdd.attemptId, tdd.inputs.map(expandInputGate), this.abort.signal, {
        jobId: tdd.jobId,
        ...(this.metrics ? { timer: this.metrics.timer } : {}),
      });
      this.metrics?.attach(input, output);
      if (tdd.restore?.finished) return await this.finishOnRestore(input, output);
      invokable = factory.create(tdd.config);
      const ctx = createTaskContext({
        tdd,
        invokable,
        input,
        output,
        state,
        signal: this.abort.signal,
        log: this.log,
        accumulator: (name) => this.accumulator(name),
        nats: this.nc,
        natsPrefix: this.subjects.prefix,
        ...(code.userCode ? { userCode: code.userCode } : {}),
      });
      if (invokable.restore) await invokable.restore(ctx);
      this.throwIfCanceled();
      this.transition("RUNNING");
      let stopped = false;
      try {
        await invokable.invoke(ctx);
      } catch (err) {
        // A source stopped by stop-with-savepoint ends normally; its output is finished below.
        if (!(err instanceof EndOfInputSignal)) throw err;
        stopped = true;
      }
      this.throwIfCanceled();
      // FLIP-147: a task that commits on checkpoints finishes only after its final checkpoint completed.
      await state.endOfInput(this.abort.signal, stopped);
      this.throwIfCanceled();
      await output.finish();
      this.throwIfCanceled();
      await state.beforeFinished();
      for (const [resultId, n] of Object.entries(this.network.blockingPublisher(tdd.attemptId)?.stats.bytes ?? {}))
        this.accumulators.set(PRODUCED_BYTES_ACCUMULATOR + resultId, n);
      this.transition("FINISHED");
    } catch (err) {
      if (this.abort.signal.aborted && this.state === "CANCELING") this.transition("CANCELED");
      else {
        // Aborted without a cancel (the connection lost its server): the abort's reason is the failure.
        const failure = this.abort.signal.aborted ? this.abort.signal.reason : err;
        this.log.warn({ err: failure }, "task failed");
        this.fail(failure);
      }
    } finally {
      this.stateManager?.taskEnded(this.state === "FINISHED");
      this.network.release(tdd.attemptId);
      if (this.metrics) this.slotMetrics?.remove(this.metrics);
      await this.stopActor(0);
    }
  }

  /**
   * The subtask had finished in the checkpoint it restores (Flink's FINISHED_ON_RESTORE): nothing runs
   * again. Its inputs (whose producers finished too) are drained, its outputs ended, and it finishes.
   */
  private async finishOnRestore(input: RecordInput, output: RecordOutput): Promise<void> {
    this.log.info({ checkpointId: this.tdd.restore?.checkpointId }, "finished in the restored checkpoint: not run again");
    this.transition("RUNNING");
    for (let b = await input.next(); b; b = await input.next()) {
      if (b.records.length) this.log.warn({ records: b.records.length }, "a task finished on restore received records; they are dropped");
      input.recycle(b);
    }
    this.throwIfCanceled();
    await output.finish();
    this.throwIfCanceled();
    await this.stateManager?.beforeFinished();
    this.transition("FINISHED");
  }

  /** `p`, or the cancellation when the task is canceled first. */
  private untilCanceled<T>(p: Promise<T>): Promise<T> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(
        (v) => (signal.removeEventListener("abort", onAbort), resolve(v)),
        (e) => (signal.removeEventListener("abort", onAbort), reject(e)),
      );
    });
  }

  private throwIfCanceled(): void {
    if (this.abort.signal.aborted) throw this.abort.signal.reason;
  }

  private fail(err: unknown): void {
    if (executionStates.isFinal(this.state)) return;
    this.state = executionStates.check(this.state, "FAILED");
    this.report("FAILED", failureInfo(err), this.snapshotAccumulators());
  }

  private transition(to: ExecutionState): void {
    this.state = executionStates.check(this.state, to);
    this.log.debug({ state: to }, "task state");
    // CANCELING is the JobMaster's own decision; the TaskExecutor reports only where the task got to.
    if (to !== "CANCELING") this.report(to, undefined, executionStates.isFinal(to) ? this.snapshotAccumulators() : undefined);
  }

  /** A job-wide accumulator: values of the same name are summed over all subtasks in the JobResult. */
  private accumulator(name: string): Accumulator {
    if (!this.accumulators.has(name)) this.accumulators.set(name, 0);
    return { add: (n) => this.accumulators.set(name, this.accumulators.get(name)! + n) };
  }

  private snapshotAccumulators(): Record<string, number> {
    return Object.fromEntries(this.accumulators);
  }
}
