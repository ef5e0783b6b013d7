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
  graph: Pick<ExecutionGraph, "jobId" | "jobName" | "state" | "statusTimestamps">;
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
    // The first report after one interval, not at once: a job's start is on the way to RUNNING, and a
    // job shorter than the interval is reported once, by stop().
    this.timer = setInterval(() => this.publish(), JOB_REPORT_INTERVAL_MS);
    this.timer.unref();
  }

  /** Starts reporting, unless metrics are off (EDDY_METRICS=off). */
  static start(nc: NatsConnection, subjects: Subjects, source: JobMetricsSource, log: Logger): JobMetricsReporter | undefined {
    return metricsEnabled() ? new JobMetricsReporter(nc, subjects, source, log) : undefined;
  }

  /** The job's current report. */
  report(now = Date.now()): JobReport {
    const running = this.source.graph.statusTimestamps.RUNNING;
    if (this.firstRunning < 0 && running !== undefined) this.firstRunning = running;
    return jobReport(this.source, this.firstRunning, now);
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

/** The report of a job at `now`; `firstRunning` is when it was first RUNNING (-1: never yet). */
export function jobReport(source: JobMetricsSource, firstRunning: number, now: number): JobReport {
  const { graph, scheduler, checkpointing } = source;
  const state = graph.state;
  const runningSince = graph.statusTimestamps.RUNNING;
  const terminal = GLOBALLY_TERMINAL.has(state);
  const cp = checkpointing.coordinator;
  const latest = cp?.stats.latest;
  const values: MetricValues = {
    numRestarts: scheduler.numberOfRestarts,
    uptime: state === "RUNNING" && runningSince !== undefined ? now - runningSince : -1,
    runningTime: firstRunning < 0 ? -1 : (terminal ? (graph.statusTimestamps[state] ?? now) : now) - firstRunning,
    lastCheckpointDuration: latest ? latest.durationMs : -1,
    lastCheckpointSize: latest ? latest.bytes : -1,
    numberOfCompletedCheckpoints: cp?.stats.completed ?? 0,
    numberOfFailedCheckpoints: cp?.stats.failed ?? 0,
    numberOfInProgressCheckpoints: cp?.numberOfInProgressCheckpoints ?? 0,
    lastCheckpointRestoreTimestamp: checkpointing.lastRestoreTimestamp,
  };
  return { jobId: graph.jobId, jobName: graph.jobName, state, terminal, t: now, values };
}
