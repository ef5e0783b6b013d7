import type { Logger } from "../../core/logger.js";
import type { TaskDeploymentDescriptor } from "../../deployment/descriptors.js";
import type { CheckpointBarrier, Invokable, RecordOutput, TaskContext } from "../../runtime/api.js";
import { DefaultOperatorStateBackend, HeapKeyedStateBackend, keyGroupRange } from "../../state/index.js";
import type { SnapshotSource } from "../storage.js";
import type { SnapshotStorage } from "./snapshot-storage.js";

/** What the synchronous part of one operator's snapshot captured. */
export interface OperatorSnapshot {
  /** Keyed state, captured copy-on-write: serialized while it is uploaded. */
  keyed?: SnapshotSource;
  /** Operator state (small by design), serialized at once. */
  operator?: Uint8Array;
  /** Why the snapshot failed; the checkpoint is declined. */
  failure?: string;
}

/** One operator of a task (its invokable, or one chain member) with its own state backends. */
export class BoundOperator {
  /** Records were read (or, for a source, emitted) since its last snapshot. */
  dirty = false;

  constructor(
    readonly id: string,
    readonly invokable: Invokable,
    readonly ctx: () => TaskContext,
    readonly output: RecordOutput,
    readonly keyed: HeapKeyedStateBackend,
    readonly operator: DefaultOperatorStateBackend,
  ) {}

  /**
   * The synchronous part of a snapshot, cheap so that processing goes on at once: the invokable's
   * `snapshotState` (which may still emit, ahead of the barrier), keyed state copy-on-write
   * (O(key groups); only `withKeyed`, when there is storage to upload it to), operator state
   * serialized. A failure is reported, not thrown: the checkpoint is declined, the task goes on.
   */
  capture(barrier: CheckpointBarrier, withKeyed: boolean): OperatorSnapshot {
    const snap: OperatorSnapshot = {};
    try {
      this.invokable.snapshotState?.(this.ctx(), barrier.checkpointId, barrier);
      if (!this.keyed.isEmpty() && withKeyed) snap.keyed = this.keyed.snapshotAsync();
      if (!this.operator.isEmpty()) snap.operator = this.operator.snapshot();
    } catch (err) {
      snap.failure = `snapshot of ${this.id} failed: ${(err as Error).message}`;
    }
    return snap;
  }
}

/**
 * The restore side of a task's state (Flink's TaskStateManager): every operator the task binds gets
 * fresh keyed and operator backends, loaded from the state the task was deployed to restore. The
 * state is read ahead ({@link prefetch}, during INITIALIZING) because operators are bound
 * synchronously — a chain binds its members as it starts.
 */
export class OperatorStateBinding {
  private readonly operators = new Map<string, BoundOperator>();
  /** Restore bytes not yet handed to their operator. */
  private readonly restoreBytes = new Map<string, { keyed: Uint8Array[]; operator: Uint8Array[] }>();
  private sourceOp: BoundOperator | undefined;

  constructor(
    private readonly tdd: TaskDeploymentDescriptor,
    private readonly storage: SnapshotStorage | undefined,
    private readonly log: Logger,
  ) {}

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

  /** Binds operator `id` to backends over this subtask's key groups, holding its prefetched state. */
  bind(id: string, invokable: Invokable, io: { output: RecordOutput; ctx: () => TaskContext }): BoundOperator {
    const { maxParallelism, parallelism, subtaskIndex } = this.tdd;
    const keyed = new HeapKeyedStateBackend({ maxParallelism, keyGroupRange: keyGroupRange(maxParallelism, parallelism, subtaskIndex) });
    let operator = new DefaultOperatorStateBackend();
    const bytes = this.restoreBytes.get(id);
    if (bytes) {
      this.restoreBytes.delete(id);
      if (bytes.keyed.length) keyed.restore(bytes.keyed);
      if (bytes.operator.length) operator = DefaultOperatorStateBackend.restore(bytes.operator, subtaskIndex, parallelism);
    }
    const op = new BoundOperator(id, invokable, io.ctx, io.output, keyed, operator);
    this.operators.set(id, op);
    // The first operator of a task without inputs is its source: checkpoints start there.
    if (!this.sourceOp && this.tdd.inputs.length === 0 && this.operators.size === 1) this.sourceOp = op;
    return op;
  }

  /** The task's source operator (checkpoints start at its yields), if the task has no inputs. */
  get source(): BoundOperator | undefined {
    return this.sourceOp;
  }

  /** Every bound operator, in binding order. */
  all(): IterableIterator<BoundOperator> {
    return this.operators.values();
  }

  /** The ids of every bound operator: those a checkpoint of the task waits for. */
  ids(): IterableIterator<string> {
    return this.operators.keys();
  }

  /** True when some operator read (or emitted) records since its last snapshot. */
  get dirty(): boolean {
    for (const op of this.operators.values()) if (op.dirty) return true;
    return false;
  }

  /** True when an operator commits on checkpoint completion (a two-phase-commit sink). */
  get commitsOnCheckpoint(): boolean {
    for (const op of this.operators.values()) if (op.invokable.notifyCheckpointComplete) return true;
    return false;
  }
}
