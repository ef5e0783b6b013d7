/**
 * The checkpointing side of one Task (Flink's TaskStateManager + SubtaskCheckpointCoordinator):
 * every operator of the task (its invokable, or each chain member) is bound here with its own
 * keyed and operator state backends. A checkpoint is taken per operator at a consistent point — for
 * a source, at its next yield after the trigger; for any other operator, when the aligned barrier
 * reaches it — by snapshotting its state synchronously and forwarding the barrier; the snapshot bytes
 * are then uploaded while processing goes on, and the task acknowledges once every operator is done.
 */
import type { Logger } from "../../src/core/logger.js";
import type { TaskDeploymentDescriptor } from "../../src/deployment/descriptors.js";
import type { KeyedStateHandle, OperatorStateHandle, StateHandle, SubtaskStateSnapshot } from "../../src/checkpoint/types.js";
import { EndOfInputSignal, type CheckpointBarrier, type InputBatch, type Invokable, type OperatorBinding, type RecordInput, type RecordOutput, type TaskContext } from "../../src/runtime/api.js";
import { HeapKeyedStateBackend, DefaultOperatorStateBackend, keyGroupRange } from "../../src/state/index.js";

/** Writes and reads snapshot bytes (the Object Store). */
export interface SnapshotStorage {
  write(name: string, bytes: Uint8Array): Promise<StateHandle>;
  read(handle: StateHandle): Promise<Uint8Array>;
}

/** Where acknowledgements go (the JobMaster). */
export interface CheckpointResponder {
  acknowledge(checkpointId: number, snapshot: SubtaskStateSnapshot): void;
  decline(checkpointId: number, reason: string): void;
}

interface BoundOperator {
  id: string;
  invokable: Invokable;
  ctx: () => TaskContext;
  output: RecordOutput;
  keyed: HeapKeyedStateBackend;
  operator: DefaultOperatorStateBackend;
}

interface PendingSnapshot {
  kind: CheckpointBarrier["kind"];
  operators: SubtaskStateSnapshot["operators"];
  remaining: Set<string>;
  uploads: Promise<void>[];
  failed?: string;
}

/** The object name prefix of a checkpoint's (or savepoint's) state. */
export function snapshotPrefix(jobId: string, b: Pick<CheckpointBarrier, "checkpointId" | "kind">): string {
  return b.kind === "SAVEPOINT" ? `savepoints/${savepointIdOf(jobId, b.checkpointId)}` : `${jobId}/chk-${b.checkpointId}`;
}

/** The id of the savepoint taken as checkpoint `checkpointId` of `jobId`. */
export function savepointIdOf(jobId: string, checkpointId: number): string {
  return `sp-${jobId.slice(0, 12)}-${checkpointId}`;
}

export class TaskStateManager {
  private readonly operators = new Map<string, BoundOperator>();
  private source: BoundOperator | undefined;
  private pendingTrigger: CheckpointBarrier | undefined;
  private readonly snapshots = new Map<number, PendingSnapshot>();
  private readonly inputs: RecordInput[] = [];

  constructor(
    private readonly tdd: TaskDeploymentDescriptor,
    private readonly storage: SnapshotStorage | undefined,
    private readonly responder: CheckpointResponder,
    private readonly log: Logger,
  ) {}

  get checkpointing(): boolean {
    return this.tdd.checkpointing === true;
  }

  /** Binds an operator: state backends, barrier-aware input, source yield. */
  bind(id: string, invokable: Invokable, io: { input: RecordInput; output: RecordOutput; ctx: () => TaskContext }): OperatorBinding {
    const range = keyGroupRange(this.tdd.maxParallelism, this.tdd.parallelism, this.tdd.subtaskIndex);
    const op: BoundOperator = {
      id,
      invokable,
      ctx: io.ctx,
      output: io.output,
      keyed: new HeapKeyedStateBackend({ maxParallelism: this.tdd.maxParallelism, keyGroupRange: range }),
      operator: new DefaultOperatorStateBackend(),
    };
    this.restoreOperator(op);
    this.operators.set(id, op);
    // The first operator of a task without inputs is its source: checkpoints start there.
    if (!this.source && this.tdd.inputs.length === 0 && this.operators.size === 1) this.source = op;
    return {
      keyedState: op.keyed,
      operatorState: op.operator,
      input: this.source === op ? io.input : this.barrierAware(op, io.input),
      yield: () => this.sourceYield(op),
    };
  }

  /** Reads every restore handle into memory, so that each operator's state is loaded when it is bound. */
  async prefetch(): Promise<void> {
    const r = this.tdd.restore;
    if (!r || !this.storage) return;
    const storage = this.storage;
    for (const [id, handles] of Object.entries(r.operators)) {
      this.restoreBytes.set(id, {
        keyed: await Promise.all(handles.keyed.map((h) => storage.read(h))),
        operator: await Promise.all(handles.operator.map((h) => storage.read(h))),
      });
    }
    this.log.info({ checkpointId: r.checkpointId, operators: this.restoreBytes.size }, "state fetched for restore");
  }

  private readonly restoreBytes = new Map<string, { keyed: Uint8Array[]; operator: Uint8Array[] }>();

  /** Loads an operator's prefetched state into its fresh backends. */
  private restoreOperator(op: BoundOperator): void {
    const bytes = this.restoreBytes.get(op.id);
    if (!bytes) return;
    this.restoreBytes.delete(op.id);
    if (bytes.keyed.length) op.keyed.restore(bytes.keyed);
    if (bytes.operator.length) op.operator = DefaultOperatorStateBackend.restore(bytes.operator, this.tdd.subtaskIndex, this.tdd.parallelism);
  }

  /** A trigger from the JobMaster (sources only): taken at the source's next yield. */
  trigger(barrier: CheckpointBarrier, stop = false): void {
    if (!this.source) return this.responder.decline(barrier.checkpointId, "not a source task");
    if (this.pendingTrigger) this.responder.decline(this.pendingTrigger.checkpointId, "superseded by a newer checkpoint");
    this.pendingTrigger = barrier;
    this.stopAfterTrigger = stop;
  }

  private stopAfterTrigger = false;
  /** A source waiting for its stop-with-savepoint to complete. */
  private waitingStop: { checkpointId: number; settle(completed: boolean): void } | undefined;

  /** The task ended: pending triggers can no longer be taken. */
  taskEnded(): void {
    this.waitingStop?.settle(false);
    if (this.pendingTrigger) this.responder.decline(this.pendingTrigger.checkpointId, "the source task finished");
    this.pendingTrigger = undefined;
  }

  async notifyComplete(checkpointId: number): Promise<void> {
    if (this.waitingStop && checkpointId >= this.waitingStop.checkpointId) this.waitingStop.settle(true);
    for (const op of this.operators.values()) await op.invokable.notifyCheckpointComplete?.(op.ctx(), checkpointId);
  }

  notifyAborted(checkpointId: number): void {
    if (this.waitingStop?.checkpointId === checkpointId) this.waitingStop.settle(false);
    this.snapshots.delete(checkpointId);
    // Channels held for an aborted checkpoint's alignment are released.
    for (const input of this.inputs) input.abortCheckpoint?.(checkpointId);
    for (const op of this.operators.values()) op.invokable.notifyCheckpointAborted?.(op.ctx(), checkpointId);
  }

  private async sourceYield(op: BoundOperator): Promise<void> {
    const b = this.pendingTrigger;
    if (b && op === this.source) {
      this.pendingTrigger = undefined;
      this.snapshotOperator(op, b);
      if (this.stopAfterTrigger) {
        // Stop-with-savepoint (Flink's synchronous savepoint): nothing may follow the savepoint's
        // barrier. The source waits until the savepoint completed, then ends; if it is aborted, the
        // source goes on as if nothing happened.
        this.stopAfterTrigger = false;
        const completed = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => settle(false), 600_000);
          const settle = (ok: boolean) => {
            clearTimeout(t);
            this.waitingStop = undefined;
            resolve(ok);
          };
          this.waitingStop = { checkpointId: b.checkpointId, settle };
          // A cancel must not wait for the savepoint.
          op.ctx().signal.addEventListener("abort", () => settle(false), { once: true });
        });
        if (completed) throw new EndOfInputSignal();
      }
    }
    await new Promise<void>((r) => setImmediate(r));
  }

  /** The operator's input, with barriers taken out: each one snapshots the operator and moves on. */
  private barrierAware(op: BoundOperator, input: RecordInput): RecordInput {
    this.inputs.push(input);
    const withEvents = input as RecordInput & { nextEvent?: () => Promise<InputBatch | { barrier: CheckpointBarrier } | { abort: number } | null> };
    if (!withEvents.nextEvent) return input;
    return {
      next: async () => {
        for (;;) {
          const ev = await withEvents.nextEvent!();
          if (ev === null || "records" in ev) return ev;
          if ("barrier" in ev) this.snapshotOperator(op, ev.barrier);
          else if ("abort" in ev) {
            // Tell the operators downstream at once, so they stop aligning a checkpoint that cannot complete.
            op.output.broadcastCancelMarker?.(ev.abort);
            this.log.debug({ checkpointId: ev.abort }, "checkpoint aborted during alignment");
          }
        }
      },
      recycle: (b) => input.recycle(b),
    };
  }

  /** Synchronous part of a snapshot: state captured, barrier forwarded; the upload runs on. */
  private snapshotOperator(op: BoundOperator, b: CheckpointBarrier): void {
    let p = this.snapshots.get(b.checkpointId);
    if (!p) {
      p = { kind: b.kind, operators: {}, remaining: new Set(this.operators.keys()), uploads: [] };
      this.snapshots.set(b.checkpointId, p);
    }
    let keyed: Uint8Array | undefined;
    let operator: Uint8Array | undefined;
    try {
      op.invokable.snapshotState?.(op.ctx(), b.checkpointId);
      if (!op.keyed.isEmpty()) keyed = op.keyed.snapshot();
      if (!op.operator.isEmpty()) operator = op.operator.snapshot();
    } catch (err) {
      p.failed = `snapshot of ${op.id} failed: ${(err as Error).message}`;
    }
    op.output.broadcastBarrier?.(b);
    p.remaining.delete(op.id);
    const pending = p;
    const prefix = `${snapshotPrefix(this.tdd.jobId, b)}/${op.id}-${this.tdd.subtaskIndex}`;
    const entry: SubtaskStateSnapshot["operators"][string] = {};
    pending.operators[op.id] = entry;
    if (this.storage && !pending.failed) {
      const storage = this.storage;
      const range = op.keyed.keyGroupRange;
      if (keyed) {
        const bytes = keyed;
        pending.uploads.push(
          storage.write(`${prefix}-keyed`, bytes).then((h) => {
            entry.keyed = { ...h, keyGroupRange: range, maxParallelism: op.keyed.maxParallelism } satisfies KeyedStateHandle;
          }),
        );
      }
      if (operator) {
        const bytes = operator;
        pending.uploads.push(
          storage.write(`${prefix}-operator`, bytes).then((h) => {
            entry.operator = { ...h, states: op.operator.modes() } satisfies OperatorStateHandle;
          }),
        );
      }
    }
    if (pending.remaining.size === 0) void this.finish(b.checkpointId, pending);
  }

  private async finish(id: number, p: PendingSnapshot): Promise<void> {
    try {
      await Promise.all(p.uploads);
    } catch (err) {
      p.failed ??= `uploading state failed: ${(err as Error).message}`;
    }
    if (this.snapshots.get(id) !== p) return; // aborted meanwhile
    this.snapshots.delete(id);
    if (p.failed) {
      this.log.warn({ checkpointId: id, reason: p.failed }, "checkpoint declined");
      return this.responder.decline(id, p.failed);
    }
    this.responder.acknowledge(id, { operators: p.operators });
  }
}
