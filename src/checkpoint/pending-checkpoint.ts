/**
 * A checkpoint the CheckpointCoordinator has triggered and not yet completed or aborted (Flink's
 * PendingCheckpoint), and the report of one that stays pending far beyond its interval.
 */
import type { Logger } from "../core/logger.js";
import type { ExecutionGraph } from "../executiongraph/execution-graph.js";
import type { CompletedCheckpoint, SnapshotKind, SubtaskStateSnapshot } from "./types.js";

/** What the coordinator tracks of a pending checkpoint. */
export interface PendingCheckpoint {
  id: number;
  kind: SnapshotKind;
  timestamp: number;
  stop: boolean;
  waiting: Set<string>;
  acks: Map<string, SubtaskStateSnapshot>;
  /** Tasks that had FINISHED at the trigger, or finished before they took the checkpoint. */
  finished: Set<string>;
  /** Tasks the trigger was sent to. */
  triggered: Set<string>;
  cancelTimeout: () => void;
  /** Stops the overdue report. */
  cancelOverdue: () => void;
  /** Every task acknowledged; the checkpoint is being recorded (no longer abortable by a failover). */
  finalizing?: boolean;
  done: (r: { ok: true; checkpoint: CompletedCheckpoint } | { ok: false; reason: string }) => void;
}

/**
 * Logs (warn), every `everyMs` until the checkpoint ends (`pending()` answers undefined), what a
 * pending checkpoint still waits for: the tasks that have not acknowledged (and whether the trigger
 * was sent to them), or its record. A checkpoint far beyond its interval holds back the next ones
 * and the sinks' commits. Returns the function that stops the report.
 */
export function reportOverdue(
  pending: () => PendingCheckpoint | undefined,
  opts: { graph: ExecutionGraph; everyMs: number; schedule: (ms: number, fn: () => void) => () => void; log: Logger },
): () => void {
  let cancel: () => void = () => undefined;
  const report = (): void => {
    const p = pending();
    if (!p) return;
    const waiting = [...p.waiting].map((id) => {
      const e = opts.graph.execution(id);
      return `${e ? `${e.vertex.jobVertex.name} (${e.vertex.subtaskIndex + 1}) ${e.state}` : id}${p.triggered.has(id) ? " (triggered)" : ""}`;
    });
    opts.log.warn(
      { checkpointId: p.id, pendingMs: Date.now() - p.timestamp, acknowledged: p.acks.size, waiting, recording: p.finalizing === true },
      p.finalizing ? "checkpoint overdue: its record is still being written" : "checkpoint overdue: tasks have not acknowledged it",
    );
    cancel = opts.schedule(opts.everyMs, report);
  };
  cancel = opts.schedule(opts.everyMs, report);
  return () => cancel();
}
