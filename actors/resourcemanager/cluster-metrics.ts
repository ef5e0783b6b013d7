/** The ResourceManager's cluster metrics (Flink's JobManager scope), published on `<prefix>.metrics.cluster`. */
import type { NatsConnection } from "@nats-io/transport-node";
import type { Subjects } from "../../src/rpc/subjects.js";
import { encodeReport, type ClusterReport } from "../../src/metrics/index.js";
import type { TaskExecutorInfo } from "./protocol.js";

/** Report interval. */
export const CLUSTER_REPORT_INTERVAL_MS = 1_000;

/** The cluster report of these registered TaskExecutors. */
export function clusterReport(tes: readonly TaskExecutorInfo[], now = Date.now()): ClusterReport {
  let total = 0;
  let free = 0;
  for (const te of tes) {
    total += te.slots;
    free += te.freeSlots;
  }
  return { t: now, values: { numRegisteredTaskManagers: tes.length, taskSlotsTotal: total, taskSlotsAvailable: free } };
}

/** Unchanged cluster metrics are published every this many intervals (a change goes out at once). */
export const CLUSTER_UNCHANGED_EVERY = 5;

/**
 * Publishes the cluster report once per interval when it changed, else every
 * {@link CLUSTER_UNCHANGED_EVERY}th interval (NATS core: a lost one is replaced by the next).
 */
export class ClusterMetricsPublisher {
  private last = "";
  private skipped = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
  ) {}

  /** One interval: publishes the report of `tes` if it is due. */
  tick(tes: readonly TaskExecutorInfo[]): void {
    const report = clusterReport(tes);
    const v = report.values;
    const key = `${v.numRegisteredTaskManagers}/${v.taskSlotsTotal}/${v.taskSlotsAvailable}`;
    if (key === this.last && this.skipped < CLUSTER_UNCHANGED_EVERY - 1) {
      this.skipped++;
      return;
    }
    this.last = key;
    this.skipped = 0;
    this.nc.publish(this.subjects.metricsCluster, encodeReport(report));
  }
}
