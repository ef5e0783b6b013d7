/** The ResourceManager's cluster metrics (Flink's JobManager scope), published on `<prefix>.metrics.cluster`. */
import type { NatsConnection } from "@nats-io/transport-node";
import type { Subjects } from "../../src/rpc/subjects.js";
import { encodeReport, type ClusterReport } from "../../src/metrics/index.js";

/** Report interval. */
export const CLUSTER_REPORT_INTERVAL_MS = 1_000;

/** The registered TaskExecutors, their slots and the free ones. */
export interface ClusterTotals {
  taskExecutors: number;
  slots: number;
  free: number;
}

/** The cluster report of these totals. */
export function clusterReport(t: ClusterTotals, now = Date.now()): ClusterReport {
  return { t: now, values: { numRegisteredTaskManagers: t.taskExecutors, taskSlotsTotal: t.slots, taskSlotsAvailable: t.free } };
}

/** Unchanged cluster metrics are published again every this many intervals (a change goes out at once). */
export const CLUSTER_UNCHANGED_EVERY = 10;

/**
 * Publishes the cluster report (NATS core: a lost one is replaced by the next). The ResourceManager
 * hands it the totals after every change it handles, and it publishes when they differ from the last
 * report; {@link republish} repeats the report every {@link CLUSTER_UNCHANGED_EVERY} intervals for a
 * store that starts late. So an idle ResourceManager has no timer waking it every second.
 */
export class ClusterMetricsPublisher {
  private last = "";

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
  ) {}

  /** Publishes the totals if they changed since the last report. */
  update(t: ClusterTotals): void {
    if (keyOf(t) !== this.last) this.send(t);
  }

  /** Publishes the totals whether they changed or not. */
  republish(t: ClusterTotals): void {
    this.send(t);
  }

  private send(t: ClusterTotals): void {
    this.last = keyOf(t);
    this.nc.publish(this.subjects.metricsCluster, encodeReport(clusterReport(t)));
  }
}

const keyOf = (t: ClusterTotals) => `${t.taskExecutors}/${t.slots}/${t.free}`;
