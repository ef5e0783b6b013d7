/**
 * Applying a job's configuration onto the JobGraph its main built: what `-D` says overrides what
 * main set. `parallelism.default` is not applied here: it reaches main as its default parallelism
 * (like `--parallelism`), so that vertices which set their own keep it.
 */
import { ErrorCode, ValidationError } from "../../core/errors.js";
import type { JobGraphSpec, RestartStrategyConfig } from "../types.js";
import type { JobConfiguration, RestartType } from "./options.js";

function malformed(message: string): ValidationError {
  return new ValidationError(ErrorCode.MalformedRequest, message);
}

/** The first key given that starts with one of `prefixes`. */
function firstKey(c: JobConfiguration, ...prefixes: string[]): string {
  return Object.keys(c.entries).find((k) => prefixes.some((p) => k.startsWith(p))) ?? prefixes[0]!;
}

/**
 * Applies `c` onto `spec` (modified and returned). Throws ValidationError MalformedRequest, naming
 * the key, when a setting contradicts the graph: checkpoint settings without a checkpoint interval,
 * settings of another restart strategy than the job's, a max parallelism below a vertex's parallelism.
 */
export function applyJobConfiguration(spec: JobGraphSpec, c: JobConfiguration): JobGraphSpec {
  const config = { ...(spec.config ?? {}) };
  if (c.maxParallelism !== undefined) {
    const max = c.maxParallelism;
    const over = spec.vertices.find((v) => v.parallelism > max);
    if (over)
      throw malformed(
        `pipeline.max-parallelism ${max} is below the parallelism ${over.parallelism} of vertex "${over.id}": expected at least ${over.parallelism}`,
      );
    spec.vertices = spec.vertices.map((v) => ({ ...v, maxParallelism: max }));
  }
  if (c.scheduler !== undefined) config.scheduler = c.scheduler;
  if (c.runtimeMode !== undefined) {
    // As the SDK builds a BATCH job: every exchange but forward is BLOCKING (stage by stage).
    const batch = c.runtimeMode === "BATCH";
    spec.edges = spec.edges.map((e) => ({ ...e, resultPartitionType: batch && e.partitioner !== "forward" ? "BLOCKING" : "PIPELINED" }));
  }
  if (Object.keys(c.checkpointing).length > 0) {
    const merged = { ...(config.checkpointing ?? {}), ...c.checkpointing };
    if (merged.intervalMs === undefined)
      throw malformed(
        `${firstKey(c, "execution.checkpointing.", "state.checkpoints.")} needs checkpointing, which the job does not turn on: also give execution.checkpointing.interval`,
      );
    config.checkpointing = { ...merged, intervalMs: merged.intervalMs };
  }
  const restart = restartStrategyOf(config.restartStrategy, c);
  if (restart) config.restartStrategy = restart;
  spec.config = config;
  return spec;
}

/** The restart strategy after `c`, or undefined when `c` leaves it as main set it. */
function restartStrategyOf(base: RestartStrategyConfig | undefined, c: JobConfiguration): RestartStrategyConfig | undefined {
  const type: RestartType | undefined = c.restartType ?? base?.type;
  for (const t of Object.keys(c.restart) as RestartType[]) {
    if (t === type) continue;
    const key = firstKey(c, `restart-strategy.${t}.`);
    throw malformed(
      type === undefined
        ? `${key} needs restart-strategy.type=${t}: the job sets no restart strategy`
        : `${key} applies to restart-strategy.type=${t}, but the job's restart strategy is ${type}: also give restart-strategy.type=${t}`,
    );
  }
  if (type === undefined || (c.restartType === undefined && Object.keys(c.restart).length === 0)) return undefined;
  const kept = base?.type === type ? base : { type };
  return { ...kept, ...(c.restart[type] ?? {}) } as RestartStrategyConfig;
}
