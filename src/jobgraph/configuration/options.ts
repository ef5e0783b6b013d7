/**
 * The Flink configuration keys a job may be given at submission (`eddy run -D key=value`): for each,
 * the values it accepts (Flink's syntax; the bounds of schemas/jobgraph.schema.json) and the JobGraph
 * setting it lands in. The table is what docs/jobgraph.md shows under "Configuration keys".
 */
import type { CheckpointingConfig, RestartStrategyConfig, SchedulerType } from "../types.js";
import { formatDurationMs, parseDurationMs } from "./duration.js";

/** Flink's execution.runtime-mode, as far as Eddy runs it. */
export type RuntimeMode = "STREAMING" | "BATCH";

/** The type of a restart strategy. */
export type RestartType = RestartStrategyConfig["type"];

/** The settings of one restart strategy (its JobGraph field names, numbers only). */
export type RestartSettings = Record<string, number>;

/** The configuration a job was given, typed: only what was given is set. */
export interface JobConfiguration {
  /** Every key with its value as given (the last of a repeated key), in order. */
  entries: Readonly<Record<string, string>>;
  /** parallelism.default: main's default parallelism (as `--parallelism`). */
  parallelism?: number;
  /** pipeline.max-parallelism: every vertex's max parallelism. */
  maxParallelism?: number;
  scheduler?: SchedulerType;
  runtimeMode?: RuntimeMode;
  /** execution.checkpointing.* (and state.checkpoints.num-retained). */
  checkpointing: Partial<CheckpointingConfig>;
  restartType?: RestartType;
  /** restart-strategy.<type>.*, by type. */
  restart: Partial<Record<RestartType, RestartSettings>>;
}

/** One configuration key. */
export interface ConfigOption {
  key: string;
  /** The values accepted, as the messages and docs say it. */
  accepts: string;
  /** The JobGraph setting it lands in. */
  field: string;
  /** The value when neither main nor `-D` sets it. */
  default: string;
  /** The value of `raw` (already trimmed), or undefined when it is not accepted. */
  read(raw: string): number | string | undefined;
  /** Records a value `read` answered. */
  set(c: JobConfiguration, value: number | string): void;
}

type Reader = Pick<ConfigOption, "accepts" | "read">;

const INT_MAX = 2_147_483_647;
const DAY_MS = 86_400_000;

function int(min: number, max: number): Reader {
  return {
    accepts: max === INT_MAX ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`,
    read: (raw) => {
      if (!/^[+-]?\d+$/.test(raw)) return undefined;
      const n = Number(raw);
      return n >= min && n <= max ? n : undefined;
    },
  };
}

function decimal(min: number, max: number): Reader {
  return {
    accepts: `a number from ${min} to ${max}`,
    read: (raw) => {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return undefined;
      const n = Number(raw);
      return n >= min && n <= max ? n : undefined;
    },
  };
}

function duration(minMs: number, maxMs: number): Reader {
  return {
    accepts: `a duration from ${formatDurationMs(minMs)} to ${formatDurationMs(maxMs)} (like 500ms, 2 s, 1min, 1 h; a plain number is ms)`,
    read: (raw) => {
      const ms = parseDurationMs(raw);
      return ms !== undefined && ms >= minMs && ms <= maxMs ? ms : undefined;
    },
  };
}

/** One of `values` (Flink's enum options: any case; `aliases` map other spellings Flink accepts). */
function choice(values: readonly string[], aliases: Record<string, string> = {}): Reader {
  const byLower = new Map<string, string>(values.map((v) => [v.toLowerCase(), v]));
  for (const [alias, v] of Object.entries(aliases)) byLower.set(alias, v);
  return { accepts: `one of ${values.join(", ")}`, read: (raw) => byLower.get(raw.toLowerCase()) };
}

function option(key: string, reader: Reader, field: string, dflt: string, set: ConfigOption["set"]): ConfigOption {
  return { key, ...reader, field, default: dflt, set };
}

const checkpoint =
  <K extends keyof CheckpointingConfig>(k: K) =>
  (c: JobConfiguration, v: number | string) => {
    c.checkpointing[k] = v as CheckpointingConfig[K];
  };

function restart(type: Exclude<RestartType, "none">, name: string, reader: Reader, field: string, dflt: string): ConfigOption {
  return option(`restart-strategy.${type}.${name}`, reader, `restartStrategy.${field}`, dflt, (c, v) => {
    c.restart[type] = { ...c.restart[type], [field]: v as number };
  });
}

/** Every key Eddy takes, in the order docs/jobgraph.md lists them. */
export const CONFIG_OPTIONS: readonly ConfigOption[] = [
  option("parallelism.default", int(1, 32768), "main's `ctx.parallelism`, `config.parallelism`", "1", (c, v) => {
    c.parallelism = v as number;
  }),
  option("pipeline.max-parallelism", int(1, 32768), "every vertex's `maxParallelism`", "Flink's rule from the parallelism", (c, v) => {
    c.maxParallelism = v as number;
  }),
  option(
    "jobmanager.scheduler",
    choice(["default", "adaptive", "adaptive-batch"], { adaptivebatch: "adaptive-batch" }),
    "scheduler",
    "the cluster's",
    (c, v) => {
      c.scheduler = v as SchedulerType;
    },
  ),
  option("execution.runtime-mode", choice(["STREAMING", "BATCH"]), "edges' `resultPartitionType`", "STREAMING", (c, v) => {
    c.runtimeMode = v as RuntimeMode;
  }),
  option("execution.checkpointing.interval", duration(10, DAY_MS), "checkpointing.intervalMs", "off", checkpoint("intervalMs")),
  option("execution.checkpointing.timeout", duration(10, DAY_MS), "checkpointing.timeoutMs", "10min", checkpoint("timeoutMs")),
  option("execution.checkpointing.min-pause", duration(0, DAY_MS), "checkpointing.minPauseMs", "0", checkpoint("minPauseMs")),
  option("execution.checkpointing.max-concurrent-checkpoints", int(1, 100), "checkpointing.maxConcurrent", "1", checkpoint("maxConcurrent")),
  option("execution.checkpointing.tolerable-failed-checkpoints", int(0, INT_MAX), "checkpointing.tolerableFailures", "0", checkpoint("tolerableFailures")),
  option("state.checkpoints.num-retained", int(1, 100), "checkpointing.retain", "1", checkpoint("retain")),
  option("execution.checkpointing.num-retained", int(1, 100), "checkpointing.retain", "1", checkpoint("retain")),
  option(
    "restart-strategy.type",
    choice(["none", "fixed-delay", "failure-rate", "exponential-delay"], {
      off: "none",
      disable: "none",
      fixeddelay: "fixed-delay",
      failurerate: "failure-rate",
      exponentialdelay: "exponential-delay",
    }),
    "restartStrategy.type",
    "none; exponential-delay with checkpointing",
    (c, v) => {
      c.restartType = v as RestartType;
    },
  ),
  restart("fixed-delay", "attempts", int(0, INT_MAX), "attempts", "1"),
  restart("fixed-delay", "delay", duration(0, DAY_MS), "delayMs", "1s"),
  restart("failure-rate", "max-failures-per-interval", int(1, INT_MAX), "maxFailuresPerInterval", "1"),
  restart("failure-rate", "failure-rate-interval", duration(1, DAY_MS), "intervalMs", "1min"),
  restart("failure-rate", "delay", duration(0, DAY_MS), "delayMs", "1s"),
  restart("exponential-delay", "initial-backoff", duration(1, DAY_MS), "initialBackoffMs", "1s"),
  restart("exponential-delay", "max-backoff", duration(1, DAY_MS), "maxBackoffMs", "1min"),
  restart("exponential-delay", "backoff-multiplier", decimal(1, 100), "backoffMultiplier", "1.5"),
  restart("exponential-delay", "reset-backoff-threshold", duration(1, 7 * DAY_MS), "resetBackoffThresholdMs", "1h"),
  restart("exponential-delay", "jitter-factor", decimal(0, 1), "jitterFactor", "0.1"),
  restart("exponential-delay", "attempts-before-reset-backoff", int(1, INT_MAX), "attemptsBeforeResetBackoff", "unlimited"),
];
