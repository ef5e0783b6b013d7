/**
 * Routes one NATS message of `<prefix>.metrics.>` into a store: decodes and checks it as the report
 * its subject names. A message that does not parse, or whose subject does not match its sender, is
 * dropped and counted; nothing a publisher sends throws out of {@link MetricIntake.handle}.
 */
import type { Logger } from "../core/logger.js";
import type { Subjects } from "../rpc/subjects.js";
import type { MetricStore } from "./metric-store.js";
import { decodeReport, parseClusterReport, parseJobReport, parseTaskExecutorReport } from "./report.js";

/** Counters of a store's intake. */
export interface MetricIntakeStats {
  /** Reports ingested. */
  reports: number;
  /** Reports dropped because they did not parse (wrong encoding, shape or subject). */
  dropped: number;
}

/** At most one warning per this interval about dropped reports. */
const DROP_WARN_MS = 60_000;

/** Feeds a store from report messages. */
export class MetricIntake {
  readonly stats: MetricIntakeStats = { reports: 0, dropped: 0 };
  private readonly teSubject: string;
  private readonly jobSubject: string;
  private lastWarn = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: MetricStore,
    private readonly subjects: Subjects,
    private readonly log: Logger,
  ) {
    this.teSubject = subjects.metricsTaskExecutor("");
    this.jobSubject = subjects.metricsJob("");
  }

  /** Ingests one message; false when it was dropped. */
  handle(subject: string, data: Uint8Array): boolean {
    try {
      this.route(subject, data);
      this.stats.reports++;
      return true;
    } catch (e) {
      this.stats.dropped++;
      const now = Date.now();
      if (now - this.lastWarn >= DROP_WARN_MS) {
        this.lastWarn = now;
        this.log.warn({ subject, dropped: this.stats.dropped, err: (e as Error).message }, "dropped a malformed metric report");
      }
      return false;
    }
  }

  private route(subject: string, data: Uint8Array): void {
    const subjects = this.subjects;
    if (subject.startsWith(this.teSubject)) {
      const r = decodeReport(data, parseTaskExecutorReport);
      if (subject !== subjects.metricsTaskExecutor(r.teId)) throw new Error(`a report of TaskExecutor ${r.teId} on ${subject}`);
      this.store.ingestTaskExecutor(r);
    } else if (subject.startsWith(this.jobSubject)) {
      const r = decodeReport(data, parseJobReport);
      if (subject !== subjects.metricsJob(r.jobId)) throw new Error(`a report of job ${r.jobId} on ${subject}`);
      this.store.ingestJob(r);
    } else if (subject === subjects.metricsCluster) {
      this.store.ingestCluster(decodeReport(data, parseClusterReport));
    } else throw new Error(`no metric report is published on ${subject}`);
  }
}
