/**
 * Eddy's metric system (Flink's metric names, groups and scopes): the report wire format, the
 * JobManager's MetricStore fed by `<prefix>.metrics.>`, its Prometheus rendering, and the task-side
 * counters the TaskExecutor reports from. See docs/metrics.md.
 */
import { subscribeProtocol } from "../rpc/stream-delivery.js";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "../core/logger.js";
import type { Subjects } from "../rpc/subjects.js";
import type { MetricQuery } from "./types.js";
import { MetricStore, type MetricStoreOptions } from "./metric-store.js";
import { MetricIntake, type MetricIntakeStats } from "./intake.js";

export type { MetricQuery, MetricValues, SubtaskMetrics, ThroughputPoint } from "./types.js";
export { MetricStore, type MetricStoreOptions } from "./metric-store.js";
export { renderPrometheus, escapeLabel, type PrometheusView } from "./prometheus.js";
export { F, METRICS, SCOPE_PREFIX, TASK_FIELDS, TASK_RATES, prometheusName, slotLagMetric, type MetricDef, type MetricScope, type TaskField } from "./names.js";
export * from "./report.js";
export { MetricIntake, type MetricIntakeStats } from "./intake.js";
export { EventLoopLag, ProcessMetrics, metricsEnabled, slotLagResolutionMs } from "./process-metrics.js";
export { TASK_SILENCE_MS, TaskDelta } from "./task-delta.js";

/** A running metric store. */
export interface MetricStoreHandle {
  query: MetricQuery;
  /** What the intake has seen. */
  stats(): MetricIntakeStats;
  close(): Promise<void>;
}

/** How often a store samples throughput history and evicts. */
const TICK_MS = 1_000;
/** How often it ticks while nothing moves (no running job, no task reported): it only evicts then. */
const IDLE_TICK_MS = 10_000;

/**
 * Subscribes to every metric report under `subjects.prefix` and keeps the latest values. A report
 * that does not parse is dropped and counted (and logged at most once a minute); nothing a
 * publisher sends stops the store.
 */
export async function createMetricStore(nc: NatsConnection, subjects: Subjects, log: Logger, opts: MetricStoreOptions = {}): Promise<MetricStoreHandle> {
  const store = new MetricStore(opts);
  const intake = new MetricIntake(store, subjects, log);
  let timer: NodeJS.Timeout | undefined;
  let idle = false;
  let closed = false;
  // An idle JobManager should not wake every second for nothing: the tick slows down while nothing
  // moves, and the first report of something that moves brings it back.
  const arm = (ms: number) => {
    clearTimeout(timer);
    idle = ms > TICK_MS;
    timer = setTimeout(() => {
      if (closed) return;
      store.tick();
      arm(store.moving ? TICK_MS : IDLE_TICK_MS);
    }, ms);
    timer.unref();
  };
  const sub: Subscription = subscribeProtocol(nc, subjects.metrics, (msg) => {
    intake.handle(msg.subject, msg.data);
    if (idle && !closed && store.moving) arm(TICK_MS);
  });
  arm(TICK_MS);
  await nc.flush();
  return {
    query: store,
    stats: () => ({ ...intake.stats }),
    async close() {
      closed = true;
      clearTimeout(timer);
      sub.unsubscribe();
    },
  };
}
