/**
 * A job's checkpoint statistics (Flink's CheckpointStatsTracker): counts, the latest completed,
 * savepoint, failed and restored checkpoint, the last checkpoints with their progress, and the
 * checkpointing settings, as the REST API and the dashboard show them. Fed by the
 * CheckpointCoordinator in the JobMaster's mailbox; read as copies.
 */
import type { CheckpointConfigView, CheckpointStatsView, CheckpointSummary } from "../../schemas/dispatcher-api.js";
import type { CheckpointingConfig } from "../jobgraph/types.js";
import type { CompletedCheckpoint, SnapshotKind } from "./types.js";
import { checkpointingDefaults } from "./checkpointing-defaults.js";

/** Checkpoints kept in the history (Flink's web.checkpoints.history default). */
export const CHECKPOINT_HISTORY_SIZE = 10;

/** The settings view of a job's checkpointing config, with the coordinator's defaults filled in. */
export function checkpointConfigView(config: CheckpointingConfig): CheckpointConfigView {
  const cfg = checkpointingDefaults(config);
  return {
    mode: "exactly_once",
    interval: cfg.intervalMs,
    timeout: cfg.timeoutMs,
    min_pause: cfg.minPauseMs,
    max_concurrent: cfg.maxConcurrent,
    tolerable_failed_checkpoints: cfg.tolerableFailures,
    retained_checkpoints: cfg.retain,
    // Checkpoints are kept in the cluster's store while the job runs and removed when it ends.
    externalization: { enabled: false, delete_on_cancellation: true },
    checkpoints_after_tasks_finish: true,
    checkpoint_storage: "JetStream Object Store",
  };
}

/** Statistics with nothing recorded (a job that does not checkpoint, or known only from its result). */
export function emptyCheckpointStats(config: CheckpointConfigView | null = null): CheckpointStatsView {
  return {
    counts: { restored: 0, total: 0, in_progress: 0, completed: 0, failed: 0 },
    latest: { completed: null, savepoint: null, failed: null, restored: null },
    history: [],
    config,
  };
}

export class CheckpointStatsTracker {
  /** Oldest first; at most {@link CHECKPOINT_HISTORY_SIZE}. */
  private readonly history: CheckpointSummary[] = [];
  private readonly inProgress = new Map<number, CheckpointSummary>();
  private readonly stats: CheckpointStatsView;

  constructor(
    config: CheckpointingConfig | undefined,
    private readonly capacity = CHECKPOINT_HISTORY_SIZE,
  ) {
    this.stats = emptyCheckpointStats(config ? checkpointConfigView(config) : null);
  }

  /** A checkpoint was triggered, waiting for `numSubtasks` subtasks (finished ones count as acknowledged). */
  reportPending(id: number, kind: SnapshotKind, triggeredAt: number, numSubtasks: number, alreadyAcknowledged: number): void {
    const c: CheckpointSummary = {
      id,
      status: "IN_PROGRESS",
      is_savepoint: kind === "SAVEPOINT",
      trigger_timestamp: triggeredAt,
      latest_ack_timestamp: triggeredAt,
      state_size: 0,
      end_to_end_duration: 0,
      num_subtasks: numSubtasks,
      num_acknowledged_subtasks: alreadyAcknowledged,
    };
    this.inProgress.set(id, c);
    this.history.push(c);
    if (this.history.length > this.capacity) this.history.shift();
    this.stats.counts.total++;
  }

  /** A subtask acknowledged (or finished while the checkpoint was pending). */
  reportAcknowledged(id: number, at = Date.now()): void {
    const c = this.inProgress.get(id);
    if (!c) return;
    c.num_acknowledged_subtasks++;
    c.latest_ack_timestamp = at;
  }

  reportCompleted(id: number, stateSize: number, completedAt: number): void {
    const c = this.inProgress.get(id);
    if (!c) return;
    this.inProgress.delete(id);
    c.status = "COMPLETED";
    c.state_size = stateSize;
    c.num_acknowledged_subtasks = c.num_subtasks;
    c.end_to_end_duration = completedAt - c.trigger_timestamp;
    this.stats.counts.completed++;
    if (c.is_savepoint) this.stats.latest.savepoint = c;
    else this.stats.latest.completed = c;
  }

  reportFailed(id: number, reason: string, at = Date.now()): void {
    const c = this.inProgress.get(id);
    if (!c) return;
    this.inProgress.delete(id);
    c.status = "FAILED";
    c.end_to_end_duration = at - c.trigger_timestamp;
    c.failure_timestamp = at;
    c.failure_message = reason;
    this.stats.counts.failed++;
    this.stats.latest.failed = c;
  }

  /** The job's tasks start from `cp` (at the JobMaster's start, or at a failover). */
  reportRestored(cp: CompletedCheckpoint, at = Date.now()): void {
    this.stats.counts.restored++;
    this.stats.latest.restored = { id: cp.checkpointId, restore_timestamp: at, is_savepoint: cp.kind === "SAVEPOINT" };
  }

  /** A copy of the statistics now (durations of checkpoints in progress up to `now`). */
  view(now = Date.now()): CheckpointStatsView {
    const copy = (c: CheckpointSummary | null) =>
      c && { ...c, ...(c.status === "IN_PROGRESS" ? { end_to_end_duration: Math.max(0, now - c.trigger_timestamp) } : {}) };
    const s = this.stats;
    return {
      counts: { ...s.counts, in_progress: this.inProgress.size },
      latest: {
        completed: copy(s.latest.completed),
        savepoint: copy(s.latest.savepoint),
        failed: copy(s.latest.failed),
        restored: s.latest.restored && { ...s.latest.restored },
      },
      history: this.history.map((c) => copy(c)!).reverse(),
      config: s.config && { ...s.config, externalization: { ...s.config.externalization } },
    };
  }
}
