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

/** Publishes the cluster report (NATS core: a lost one is replaced a second later). */
export function publishClusterMetrics(nc: NatsConnection, subjects: Subjects, tes: readonly TaskExecutorInfo[]): void {
  nc.publish(subjects.metricsCluster, encodeReport(clusterReport(tes)));
}
