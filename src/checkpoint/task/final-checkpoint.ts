import type { CheckpointResponder } from "./checkpoint-responder.js";

/** How long a task at its end of input waits for its final checkpoint to complete. */
export const FINAL_CHECKPOINT_TIMEOUT_MS = 15 * 60_000;

/**
 * The final checkpoint of a task at its end of input (Flink's FLIP-147). A task whose operators
 * commit on checkpoint completion (a two-phase-commit sink) must not finish before a checkpoint
 * taken after its last record completed, or those records would never be committed. So it stays
 * at its end of input until one did: the last checkpoint, if nothing was read after it, else the
 * next one, which it asks the JobMaster for. If that one is aborted it asks again.
 */
export class FinalCheckpoint {
  private atEnd = false;
  private lastCompletedId = 0;
  /** The newest checkpoint every operator committed: completion alone is not enough, its commit may still be running. */
  private lastCommittedId = 0;
  /** The checkpoint whose completion lets the task finish, once one is chosen. */
  private chosen: number | undefined;
  private wait: { resolve(): void; reject(err: unknown): void } | undefined;

  constructor(private readonly responder: Pick<CheckpointResponder, "endOfInput">) {}

  /** True once the task reached its end of input: triggers are taken at once, no barrier goes out. */
  get ended(): boolean {
    return this.atEnd;
  }

  /** The checkpoint chosen as the final one, if any yet. */
  get checkpointId(): number | undefined {
    return this.chosen;
  }

  /**
   * The task reached its end of input. `clean`: nothing was read (or emitted) since checkpoint
   * `lastSnapshotId`, which is then the final one. True when that one was committed already: the task
   * may finish at once.
   */
  reached(lastSnapshotId: number, clean: boolean): boolean {
    this.atEnd = true;
    if (clean) this.chosen = lastSnapshotId;
    return this.chosen !== undefined && this.lastCommittedId >= this.chosen;
  }

  /** Resolves once the final checkpoint was committed; rejects on `signal`, on the timeout, or when the task ends. */
  untilCommitted(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () => settle(new Error(`the final checkpoint did not complete within ${FINAL_CHECKPOINT_TIMEOUT_MS} ms of the end of input`)),
        FINAL_CHECKPOINT_TIMEOUT_MS,
      );
      const onAbort = () => settle(signal.reason);
      const settle = (err?: unknown) => {
        clearTimeout(t);
        signal.removeEventListener("abort", onAbort);
        this.wait = undefined;
        if (err === undefined) resolve();
        else reject(err);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.wait = { resolve: () => settle(), reject: settle };
    });
  }

  /** Asks the JobMaster for a checkpoint unless one is chosen already. */
  askUnlessChosen(): void {
    if (this.chosen === undefined) this.responder.endOfInput();
  }

  /** Every operator snapshotted checkpoint `checkpointId`: at the end of input, the first such is the final one. */
  snapshotted(checkpointId: number): void {
    if (this.atEnd && this.chosen === undefined) this.chosen = checkpointId;
  }

  /** Checkpoint `checkpointId` completed (its commit notifications still to run). */
  completed(checkpointId: number): void {
    this.lastCompletedId = Math.max(this.lastCompletedId, checkpointId);
  }

  /** The operators committed checkpoint `checkpointId`: if it is (or follows) the final one, the task may finish. */
  committed(checkpointId: number): void {
    this.lastCommittedId = Math.max(this.lastCommittedId, checkpointId);
    if (this.wait && this.chosen !== undefined && checkpointId >= this.chosen) this.wait.resolve();
  }

  /** Checkpoint `checkpointId` was aborted: if it was the final one, the JobMaster is asked for another. */
  aborted(checkpointId: number): void {
    if (this.atEnd && this.chosen === checkpointId && this.lastCompletedId < checkpointId) {
      this.chosen = undefined;
      this.responder.endOfInput();
    }
  }

  /** The connection was re-established: a task still waiting asks again (the ask, the trigger or the completion may be lost). */
  connectionRestored(): void {
    if (this.wait) this.responder.endOfInput();
  }

  /** The task ended: nothing waits any more. */
  taskEnded(): void {
    this.wait?.reject(new Error("the task ended"));
  }
}
