import type { JobDetails } from "../jobmaster/protocol.js";
import type { JobViews } from "../jobmaster/job-details.js";
import type { JobResult } from "../../src/ha/job-result-store.js";

/** A finished job as the Dispatcher keeps it once its JobMaster is gone (Flink's ArchivedExecutionGraph). */
export interface ArchivedJob {
  details: JobDetails;
  result: JobResult;
  /** Its exception history, checkpoint statistics and plan as they were at the end. */
  views: JobViews;
}

/** The most recent finished jobs, bounded (oldest dropped first). */
export class JobArchive {
  private readonly jobs = new Map<string, ArchivedJob>();
  constructor(private readonly capacity = 1000) {}

  add(job: ArchivedJob): void {
    this.jobs.delete(job.result.jobId);
    this.jobs.set(job.result.jobId, job);
    while (this.jobs.size > this.capacity) this.jobs.delete(this.jobs.keys().next().value!);
  }

  get(jobId: string): ArchivedJob | undefined {
    return this.jobs.get(jobId);
  }

  values(): IterableIterator<ArchivedJob> {
    return this.jobs.values();
  }
}

/**
 * The details of a job known only from its recorded result (it finished under an earlier leader):
 * its state, times and failure, no vertices.
 */
export function detailsFromResult(r: JobResult): JobDetails {
  return {
    id: r.jobId,
    name: r.name,
    state: r.state,
    startTime: r.startTime,
    endTime: r.endTime,
    timestamps: { [r.state]: r.endTime },
    failure: r.failure ? { ...r.failure } : null,
    vertices: [],
    checkpoints: { completed: 0, failed: 0, latest: null },
  };
}
