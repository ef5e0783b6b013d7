/** How long a source waits after its stop-with-savepoint barrier for the savepoint to complete. */
export const SYNCHRONOUS_SAVEPOINT_TIMEOUT_MS = 600_000;

/**
 * Stop-with-savepoint at the source (Flink's synchronous savepoint): nothing may follow the
 * savepoint's barrier, or the job's output would run past the state the savepoint holds. So the
 * source waits right after emitting it until the savepoint completed, then ends; if the savepoint
 * is aborted (or times out, or the task is canceled) the source goes on as if nothing happened.
 */
export class SynchronousSavepoint {
  /** The source waiting, and for which savepoint. */
  private waiting: { checkpointId: number; settle(completed: boolean): void } | undefined;

  /** Holds the source after savepoint `checkpointId`'s barrier: true once it completed, false if not. */
  hold(checkpointId: number, signal: AbortSignal): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => settle(false), SYNCHRONOUS_SAVEPOINT_TIMEOUT_MS);
      // A cancel must not wait for the savepoint.
      const onAbort = () => settle(false);
      const settle = (completed: boolean) => {
        clearTimeout(t);
        signal.removeEventListener("abort", onAbort);
        if (this.waiting?.settle === settle) this.waiting = undefined;
        resolve(completed);
      };
      this.waiting = { checkpointId, settle };
      if (signal.aborted) settle(false);
      else signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Checkpoint `checkpointId` completed: a source waiting for it (or an older savepoint) ends. */
  completed(checkpointId: number): void {
    if (this.waiting && checkpointId >= this.waiting.checkpointId) this.waiting.settle(true);
  }

  /** Checkpoint `checkpointId` was aborted: a source waiting for it goes on. */
  aborted(checkpointId: number): void {
    if (this.waiting?.checkpointId === checkpointId) this.waiting.settle(false);
  }

  /** The task ended: nothing waits any more. */
  taskEnded(): void {
    this.waiting?.settle(false);
  }
}
