import type { Logger } from "../../core/logger.js";
import type { CheckpointBarrier } from "../../runtime/api.js";
import { snapshotObjectName } from "../names.js";
import type { SnapshotSource } from "../storage.js";
import type { KeyedStateHandle, OperatorStateHandle, SubtaskStateSnapshot } from "../types.js";
import type { CheckpointResponder } from "./checkpoint-responder.js";
import type { BoundOperator, OperatorSnapshot } from "./operator-state-binding.js";
import type { SnapshotStorage } from "./snapshot-storage.js";

/** One checkpoint of the task while its operators are snapshotted and their state uploaded. */
interface PendingSnapshot {
  operators: SubtaskStateSnapshot["operators"];
  /** Operators not snapshotted yet. */
  remaining: Set<string>;
  uploads: Promise<void>[];
  /** Keyed snapshots still serializing into their uploads (canceled when the checkpoint is aborted). */
  sources: SnapshotSource[];
  failed?: string;
}

/**
 * The asynchronous part of a task's checkpoints (Flink's AsyncCheckpointRunnable): each operator's
 * captured state is uploaded while processing goes on — keyed state serialized key group by key
 * group straight into the upload — and once every operator of the task is in and every upload
 * done, the checkpoint is acknowledged with the handles, or declined with its first failure.
 */
export class SnapshotUploader {
  private readonly snapshots = new Map<number, PendingSnapshot>();
  /** Checkpoints every operator snapshotted whose acknowledgement (or decline) is not sent yet. */
  private readonly acking = new Set<Promise<void>>();

  constructor(
    private readonly jobId: string,
    private readonly subtaskIndex: number,
    private readonly storage: SnapshotStorage | undefined,
    private readonly responder: Pick<CheckpointResponder, "acknowledge" | "decline">,
    private readonly log: Logger,
  ) {}

  /** True when state can be uploaded; without storage a checkpoint acknowledges empty handles. */
  get hasStorage(): boolean {
    return this.storage !== undefined;
  }

  /** True while operator `operatorId` is still to be snapshotted in checkpoint `checkpointId`. */
  awaits(checkpointId: number, operatorId: string): boolean {
    const p = this.snapshots.get(checkpointId);
    return !p || p.remaining.has(operatorId);
  }

  /**
   * Takes operator `op`'s snapshot `snap` for checkpoint `b` of a task running the operators
   * `operatorIds`, and starts its upload. True when it was the last of them: the checkpoint is
   * acknowledged (or declined) once the uploads finished.
   */
  add(b: CheckpointBarrier, op: BoundOperator, snap: OperatorSnapshot, operatorIds: Iterable<string>): boolean {
    const keyedName = snapshotObjectName(this.jobId, b.checkpointId, b.kind, op.id, this.subtaskIndex, "keyed");
    const operatorName = snapshotObjectName(this.jobId, b.checkpointId, b.kind, op.id, this.subtaskIndex, "operator");
    let p = this.snapshots.get(b.checkpointId);
    if (!p) {
      p = { operators: {}, remaining: new Set(operatorIds), uploads: [], sources: [] };
      this.snapshots.set(b.checkpointId, p);
    }
    if (snap.failure !== undefined) p.failed = snap.failure;
    p.remaining.delete(op.id);
    const entry: SubtaskStateSnapshot["operators"][string] = {};
    p.operators[op.id] = entry;
    if (p.failed) snap.keyed?.cancel(p.failed);
    else if (this.storage) {
      const storage = this.storage;
      if (snap.keyed) {
        const range = op.keyed.keyGroupRange;
        p.sources.push(snap.keyed);
        p.uploads.push(
          storage.writeStream(keyedName, snap.keyed).then((h) => {
            entry.keyed = { ...h, keyGroupRange: range, maxParallelism: op.keyed.maxParallelism } satisfies KeyedStateHandle;
          }),
        );
      }
      if (snap.operator) {
        p.uploads.push(
          storage.write(operatorName, snap.operator).then((h) => {
            entry.operator = { ...h, states: op.operator.modes() } satisfies OperatorStateHandle;
          }),
        );
      }
    }
    if (p.remaining.size > 0) return false;
    const done = this.finish(b.checkpointId, p);
    this.acking.add(done);
    void done.finally(() => this.acking.delete(done));
    return true;
  }

  /** Checkpoint `checkpointId` was aborted: its keyed serializations stop and nothing is sent for it. */
  abort(checkpointId: number): void {
    const p = this.snapshots.get(checkpointId);
    this.snapshots.delete(checkpointId);
    for (const src of p?.sources ?? []) src.cancel(`checkpoint ${checkpointId} aborted`);
  }

  /** Resolves once every checkpoint snapshotted so far was acknowledged or declined. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.acking]);
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
      return this.responder.decline(id, p.failed, "CHECKPOINT_DECLINED");
    }
    this.responder.acknowledge(id, { operators: p.operators });
  }
}
