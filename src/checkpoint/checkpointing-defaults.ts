/** A job's checkpointing settings with Flink's defaults for what it leaves out. */
import type { CheckpointingConfig } from "../jobgraph/types.js";

/** `config` with every omitted setting at its default (timeout 10 min, no pause, one in flight, no failure tolerated, one kept). */
export function checkpointingDefaults(config: CheckpointingConfig): Required<CheckpointingConfig> {
  return {
    intervalMs: config.intervalMs,
    timeoutMs: config.timeoutMs ?? 600_000,
    minPauseMs: config.minPauseMs ?? 0,
    maxConcurrent: config.maxConcurrent ?? 1,
    tolerableFailures: config.tolerableFailures ?? 0,
    retain: config.retain ?? 1,
  };
}
