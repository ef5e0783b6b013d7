/**
 * The checkpointing side of one Task (Flink's TaskStateManager + SubtaskCheckpointCoordinator):
 * every operator of the task (its invokable, or each chain member) is bound here with its own
 * keyed and operator state backends. A checkpoint is taken per operator at a consistent point — for
 * a source, at its next yield after the trigger; for any other operator, when the aligned barrier
 * reaches it — by taking its state's synchronous snapshot and forwarding the barrier. The synchronous
 * part is cheap: keyed state is captured copy-on-write (O(key groups)), operator state (small by
 * design) is serialized. Keyed state is then serialized key group by key group straight into the
 * upload while processing goes on, and the task acknowledges once every operator is done.
 *
 * Final checkpoint (Flink's FLIP-147): with checkpointing, a task whose operators commit on checkpoint
 * completion (a two-phase-commit sink: any `notifyCheckpointComplete`) does not finish at its end of
 * input. It reports the end of input to the JobMaster, takes the next checkpoint right there (or counts
 * the last one, if nothing was read after it), and finishes only once that checkpoint completed, so
 * its last records are committed by a completed checkpoint, which records the task as finished after
 * it. Other tasks finish at once; checkpoints record them as finished.
 */
import type { Logger } from "../../src/core/logger.js";
import type { TaskDeploymentDescriptor } from "../../src/deployment/descriptors.js";
import type { KeyedStateHandle, OperatorStateHandle, StateHandle, SubtaskStateSnapshot } from "../../src/checkpoint/types.js";
import type { SnapshotSource } from "../../src/checkpoint/storage.js";
import { EndOfInputSignal, MAX_WATERMARK, isBarrierEvent, isInputBatch, isWatermarkEvent, type StreamElement, type CheckpointBarrier, type InputBatch, type Invokable, type OperatorBinding, type RecordInput, type RecordOutput, type TaskContext } from "../../src/runtime/api.js";
import { HeapKeyedStateBackend, DefaultOperatorStateBackend, keyGroupRange } from "../../src/state/index.js";

/** Writes and reads snapshot bytes (the Object Store). */
export interface SnapshotStorage {
  write(name: string, bytes: Uint8Array): Promise<StateHandle>;
  /** Uploads bytes while `source` produces them (see CheckpointStorage.writeStream). */
  writeStream(name: string, source: SnapshotSource): Promise<StateHandle>;
  read(handle: StateHandle): Promise<Uint8Array>;
}

/** Where acknowledgements go (the JobMaster). */
export interface CheckpointResponder {
  acknowledge(checkpointId: number, snapshot: SubtaskStateSnapshot): void;
  decline(checkpointId: number, reason: string): void;
  /** The task reached its end of input and waits for a final checkpoint. */
  endOfInput(): void;
  /**
   * The task is about to finish and has acknowledged or declined every checkpoint it took (sent after
   * those, on the same connection): pending checkpoints it did not take count it as finished.
   */
  finished(): void;
}

/** How long a task at its end of input waits for its final checkpoint to complete. */
export const FINAL_CHECKPOINT_TIMEOUT_MS = 15 * 60_000;

interface BoundOperator {
  id: string;
  invokable: Invokable;
  ctx: () => TaskContext;
  output: RecordOutput;
  keyed: HeapKeyedStateBackend;
  operator: DefaultOperatorStateBackend;
  /** Records were read (or, for a source, emitted) since its last snapshot. */
  dirty: boolean;
}

interface PendingSnapshot {
  kind: CheckpointBarrier["kind"];
  operators: SubtaskStateSnapshot["operators"];
  remaining: Set<string>;
  uploads: Promise<void>[];
  /** Keyed snapshots still serializing into their uploads (canceled when the checkpoint is aborted). */
  sources: SnapshotSource[];
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
  /** Snapshots still uploading, whose acknowledgement is not sent yet. */
  private readonly acking = new Set<Promise<void>>();
  /** At the end of input, waiting for the final checkpoint: triggers are taken at once. */
  private ended = false;
  /** The last checkpoint every operator of the task snapshotted, and the last one completed. */
  private lastSnapshotId = 0;
  private lastCompletedId = 0;
  /** The checkpoint whose completion lets the ended task finish. */
  private finalCheckpoint: number | undefined;
  private finalWait: { resolve(): void; reject(err: unknown): void } | undefined;

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
      dirty: false,
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

  /**
   * A trigger from the JobMaster: a source takes it at its next yield; a task whose producers all
   * finished or ended takes it at its end of input (or at the in-band barrier, if that comes first);
   * a task already at its end of input takes it now.
   */
  trigger(barrier: CheckpointBarrier, stop = false): void {
    if (barrier.checkpointId <= this.lastSnapshotId) return; // taken already (the barrier came in-band)
    if (this.ended) {
      this.snapshotAll(barrier);
      return;
    }
    if (this.pendingTrigger) {
      if (this.pendingTrigger.checkpointId >= barrier.checkpointId) return;
      this.responder.decline(this.pendingTrigger.checkpointId, "superseded by a newer checkpoint");
    }
    this.pendingTrigger = barrier;
    this.stopAfterTrigger = stop && this.source !== undefined;
  }

  /** True when an operator of the task commits on checkpoint completion (a two-phase-commit sink). */
  private get commitsOnCheckpoint(): boolean {
    for (const op of this.operators.values()) if (op.invokable.notifyCheckpointComplete) return true;
    return false;
  }

  /**
   * The task's operators have all ended (FLIP-147). Without checkpointing, or when no operator
   * commits on checkpoint completion, the task may finish now. Otherwise this resolves once a
   * checkpoint taken at the end of input completed (the last one, if nothing was read after it):
   * its completion committed everything. `stopped`: a source ended by stop-with-savepoint.
   */
  async endOfInput(signal: AbortSignal, stopped: boolean): Promise<void> {
    if (!this.checkpointing || !this.storage || !this.commitsOnCheckpoint) return;
    this.ended = true;
    if (this.source && !stopped) this.source.dirty = true;
    let clean = this.lastSnapshotId > 0;
    for (const op of this.operators.values()) if (op.dirty) clean = false;
    if (clean) this.finalCheckpoint = this.lastSnapshotId;
    if (this.finalCheckpoint !== undefined && this.lastCompletedId >= this.finalCheckpoint) return;
    const waiting = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => settle(new Error(`the final checkpoint did not complete within ${FINAL_CHECKPOINT_TIMEOUT_MS} ms of the end of input`)), FINAL_CHECKPOINT_TIMEOUT_MS);
      const onAbort = () => settle(signal.reason);
      const settle = (err?: unknown) => {
        clearTimeout(t);
        signal.removeEventListener("abort", onAbort);
        this.finalWait = undefined;
        if (err === undefined) resolve();
        else reject(err);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.finalWait = { resolve: () => settle(), reject: settle };
    });
    const pending = this.pendingTrigger;
    this.pendingTrigger = undefined;
    if (pending) this.snapshotAll(pending);
    else if (this.finalCheckpoint === undefined) this.responder.endOfInput();
    this.log.debug({ finalCheckpoint: this.finalCheckpoint ?? null }, "end of input: waiting for the final checkpoint");
    await waiting;
  }

  /** Snapshots every operator not yet in checkpoint `b` (at the end of input: no barrier goes out). */
  private snapshotAll(b: CheckpointBarrier): void {
    if (b.checkpointId <= this.lastSnapshotId) return;
    const p = this.snapshots.get(b.checkpointId);
    for (const op of this.operators.values()) if (!p || p.remaining.has(op.id)) this.snapshotOperator(op, b);
  }

  private stopAfterTrigger = false;
  /** A source waiting for its stop-with-savepoint to complete. */
  private waitingStop: { checkpointId: number; settle(completed: boolean): void } | undefined;

  /**
   * Right before the task reports FINISHED (Flink waits for pending async checkpoints too): every
   * checkpoint it took is acknowledged (or declined) first, then the JobMaster is told the task
   * finished, so a checkpoint the task took is never counted as "finished" without its state.
   */
  async beforeFinished(): Promise<void> {
    if (!this.checkpointing) return;
    await Promise.allSettled([...this.acking]);
    this.responder.finished();
  }

  /**
   * The task ended. A task that FINISHED declines nothing: the JobMaster counts it as finished in
   * checkpoints still pending; a failed or canceled one declines its pending trigger.
   */
  taskEnded(finished: boolean): void {
    this.waitingStop?.settle(false);
    this.finalWait?.reject(new Error("the task ended"));
    if (this.pendingTrigger && !finished) this.responder.decline(this.pendingTrigger.checkpointId, "the task ended");
    this.pendingTrigger = undefined;
  }

  /**
   * The worker's NATS connection was re-established: a task waiting for its final checkpoint asks for
   * one again (its end-of-input notice, the trigger or the completion notice may have been lost).
   */
  connectionRestored(): void {
    if (this.finalWait) this.responder.endOfInput();
  }

  async notifyComplete(checkpointId: number): Promise<void> {
    if (this.waitingStop && checkpointId >= this.waitingStop.checkpointId) this.waitingStop.settle(true);
    this.lastCompletedId = Math.max(this.lastCompletedId, checkpointId);
    for (const op of this.operators.values()) await op.invokable.notifyCheckpointComplete?.(op.ctx(), checkpointId);
    // Committed: a task waiting for this final checkpoint may finish now.
    if (this.finalWait && this.finalCheckpoint !== undefined && checkpointId >= this.finalCheckpoint) this.finalWait.resolve();
  }

  notifyAborted(checkpointId: number): void {
    if (this.waitingStop?.checkpointId === checkpointId) this.waitingStop.settle(false);
    if (this.pendingTrigger?.checkpointId === checkpointId) this.pendingTrigger = undefined;
    if (this.ended && this.finalCheckpoint === checkpointId && this.lastCompletedId < checkpointId) {
      // The final checkpoint failed: ask for another one.
      this.finalCheckpoint = undefined;
      this.responder.endOfInput();
    }
    const p = this.snapshots.get(checkpointId);
    this.snapshots.delete(checkpointId);
    for (const src of p?.sources ?? []) src.cancel(`checkpoint ${checkpointId} aborted`);
    // Channels held for an aborted checkpoint's alignment are released.
    for (const input of this.inputs) input.abortCheckpoint?.(checkpointId);
    for (const op of this.operators.values()) op.invokable.notifyCheckpointAborted?.(op.ctx(), checkpointId);
  }

  private async sourceYield(op: BoundOperator): Promise<void> {
    const b = this.pendingTrigger;
    if (op === this.source) op.dirty = true;
    if (b && op === this.source) {
      this.pendingTrigger = undefined;
      // Only the source: the barrier goes on through its chain like any record.
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

  /**
   * The operator's input, with barriers taken out: each one snapshots the operator and moves on.
   * `next()` forwards finite watermarks to the operator's output; `nextElement()` hands them to the
   * operator (which forwards them itself) and ends with MAX_WATERMARK before `null`.
   */
  private barrierAware(op: BoundOperator, input: RecordInput): RecordInput {
    this.inputs.push(input);
    if (!input.nextEvent) return input;
    const nextEvent = input.nextEvent.bind(input);
    let ended = false;
    const nextElement = async (forward: boolean): Promise<StreamElement | null> => {
      for (;;) {
        if (ended) return null;
        const ev = await nextEvent();
        if (ev === null) {
          ended = true;
          if (forward) return null;
          op.dirty = true; // the final watermark fires timers and windows
          return { watermark: MAX_WATERMARK };
        }
        if (isInputBatch(ev)) {
          op.dirty = true;
          return ev;
        }
        if (isWatermarkEvent(ev)) {
          op.dirty = true; // timers and windows fire on watermarks
          if (!forward) return ev;
          if (Number.isFinite(ev.watermark)) op.output.emitWatermark?.(ev.watermark);
        } else if (isBarrierEvent(ev)) this.snapshotOperator(op, ev.barrier);
        else {
          // Tell the operators downstream at once, so they stop aligning a checkpoint that cannot complete.
          op.output.broadcastCancelMarker?.(ev.abort);
          this.log.debug({ checkpointId: ev.abort }, "checkpoint aborted during alignment");
        }
      }
    };
    return {
      next: () => nextElement(true) as Promise<InputBatch | null>,
      nextElement: () => nextElement(false),
      recycle: (b) => input.recycle(b),
    };
  }

  /** Synchronous part of a snapshot: state captured, barrier forwarded; the upload runs on. */
  private snapshotOperator(op: BoundOperator, b: CheckpointBarrier): void {
    let p = this.snapshots.get(b.checkpointId);
    if (!p) {
      p = { kind: b.kind, operators: {}, remaining: new Set(this.operators.keys()), uploads: [], sources: [] };
      this.snapshots.set(b.checkpointId, p);
    }
    let keyed: SnapshotSource | undefined;
    let operator: Uint8Array | undefined;
    try {
      op.invokable.snapshotState?.(op.ctx(), b.checkpointId);
      // Copy-on-write: O(key groups) now, serialized during the upload below.
      if (!op.keyed.isEmpty() && this.storage) keyed = op.keyed.snapshotAsync();
      if (!op.operator.isEmpty()) operator = op.operator.snapshot();
    } catch (err) {
      p.failed = `snapshot of ${op.id} failed: ${(err as Error).message}`;
    }
    op.dirty = false;
    // At the end of input the outputs have ended: the consumers take this checkpoint from their own trigger.
    if (!this.ended) op.output.broadcastBarrier?.(b);
    p.remaining.delete(op.id);
    if (p.remaining.size === 0) {
      this.lastSnapshotId = Math.max(this.lastSnapshotId, b.checkpointId);
      // A directly triggered task whose barrier came in-band first: the trigger is taken.
      if (this.pendingTrigger && this.pendingTrigger.checkpointId <= b.checkpointId && !this.source) this.pendingTrigger = undefined;
      if (this.ended && this.finalCheckpoint === undefined) this.finalCheckpoint = b.checkpointId;
    }
    const pending = p;
    const prefix = `${snapshotPrefix(this.tdd.jobId, b)}/${op.id}-${this.tdd.subtaskIndex}`;
    const entry: SubtaskStateSnapshot["operators"][string] = {};
    pending.operators[op.id] = entry;
    if (pending.failed) keyed?.cancel(pending.failed);
    else if (this.storage) {
      const storage = this.storage;
      const range = op.keyed.keyGroupRange;
      if (keyed) {
        pending.sources.push(keyed);
        pending.uploads.push(
          storage.writeStream(`${prefix}-keyed`, keyed).then((h) => {
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
    if (pending.remaining.size === 0) {
      const done = this.finish(b.checkpointId, pending);
      this.acking.add(done);
      void done.finally(() => this.acking.delete(done));
    }
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
