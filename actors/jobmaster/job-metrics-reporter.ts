/**
 * A JobMaster's job metrics (Flink's job scope): once a second one report on
 * `<prefix>.metrics.job.<jobId>` with the restarts, uptime and running time, the checkpoint counters
 * and the job's state (the store evicts a job some minutes after it reads a terminal one), and one
 * more when the JobMaster stops, so the last state is not lost with the timer.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../src/core/logger.js";
import type { Subjects } from "../../src/rpc/subjects.js";
import type { ExecutionGraph } from "../../src/executiongraph/execution-graph.js";
import { encodeReport, metricsEnabled, type JobReport, type MetricValues } from "../../src/metrics/index.js";
import type { CheckpointStats } from "../../src/checkpoint/checkpoint-coordinator.js";

/** Report interval. */
export const JOB_REPORT_INTERVAL_MS = 1_000;

/** What the reporter reads of its JobMaster (synchronous reads: one JavaScript thread). */
export interface JobMetricsSource {
  graph: ExecutionGraph;
  scheduler: { readonly numberOfRestarts: number };
  checkpointing: {
    readonly coordinator: { readonly stats: CheckpointStats; readonly numberOfInProgressCheckpoints: number } | undefined;
    readonly lastRestoreTimestamp: number;
  };
}

const GLOBALLY_TERMINAL = new Set(["FINISHED", "CANCELED", "FAILED"]);

/** Publishes one job's metrics. */
export class JobMetricsReporter {
  private readonly timer: NodeJS.Timeout;
  /** When the job was first RUNNING (runningTime covers the whole job, restarts included). */
  private firstRunning = -1;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly source: JobMetricsSource,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.publish(), JOB_REPORT_INTERVAL_MS);
    this.timer.unref();
    this.publish();
  }

  /** Starts reporting, unless metrics are off (EDDY_METRICS=off). */
  static start(nc: NatsConnection, subjects: Subjects, source: JobMetricsSource, log: Logger): JobMetricsReporter | undefined {
    return metricsEnabled() ? new JobMetricsReporter(nc, subjects, source, log) : undefined;
  }

  /** The job's current report. */
  report(now = Date.now()): JobReport {
    const { graph, scheduler, checkpointing } = this.source;
    const state = graph.state;
    const runningSince = graph.statusTimestamps.RUNNING;
    if (this.firstRunning < 0 && runningSince !== undefined) this.firstRunning = runningSince;
    const cp = checkpointing.coordinator;
    const latest = cp?.stats.latest;
    const values: MetricValues = {
      numRestarts: scheduler.numberOfRestarts,
      uptime: state === "RUNNING" && runningSince !== undefined ? now - runningSince : -1,
      runningTime: this.firstRunning < 0 ? -1 : (GLOBALLY_TERMINAL.has(state) ? (graph.statusTimestamps[state] ?? now) : now) - this.firstRunning,
      lastCheckpointDuration: latest ? latest.durationMs : -1,
      lastCheckpointSize: latest ? latest.bytes : -1,
      numberOfCompletedCheckpoints: cp?.stats.completed ?? 0,
      numberOfFailedCheckpoints: cp?.stats.failed ?? 0,
      numberOfInProgressCheckpoints: cp?.numberOfInProgressCheckpoints ?? 0,
      lastCheckpointRestoreTimestamp: checkpointing.lastRestoreTimestamp,
    };
    return { jobId: graph.jobId, jobName: graph.jobName, state, terminal: GLOBALLY_TERMINAL.has(state), t: now, values };
  }

  private publish(): void {
    try {
      this.nc.publish(this.subjects.metricsJob(this.source.graph.jobId), encodeReport(this.report()));
    } catch (err) {
      this.log.debug({ err }, "job metric report not published");
    }
  }

  /** Stops the timer after one last report. */
  stop(): void {
    clearInterval(this.timer);
    this.publish();
  }
}
