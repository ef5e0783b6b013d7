import type { EndpointInfo, EndpointStatsJson } from "./responses.js";

/**
 * The counters of one endpoint, updated for every request on the actor's receive path: a few number
 * updates, nothing allocated (a string only when an error is recorded). Time is kept in
 * milliseconds as `performance.now()` gives it and turned into nanoseconds when reported.
 */
export class EndpointStats {
  numRequests = 0;
  numErrors = 0;
  lastError = "";
  private processingMs = 0;

  constructor(
    readonly name: string,
    readonly subject: string,
    readonly queueGroup: string,
  ) {}

  /** Counts one request that took `ms` from arrival to reply. */
  record(ms: number): void {
    this.numRequests++;
    this.processingMs += ms;
  }

  /** Counts one request answered with `code: message` after `ms`. */
  recordError(ms: number, code: string, message: string): void {
    this.record(ms);
    this.numErrors++;
    this.lastError = `${code}: ${message}`;
  }

  info(): EndpointInfo {
    return { name: this.name, subject: this.subject, queue_group: this.queueGroup, metadata: {} };
  }

  stats(): EndpointStatsJson {
    const processing = Math.round(this.processingMs * 1e6);
    return {
      name: this.name,
      subject: this.subject,
      queue_group: this.queueGroup,
      num_requests: this.numRequests,
      num_errors: this.numErrors,
      last_error: this.lastError,
      processing_time: processing,
      average_processing_time: this.numRequests === 0 ? 0 : Math.round(processing / this.numRequests),
    };
  }
}
