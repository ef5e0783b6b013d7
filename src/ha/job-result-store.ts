import type { NatsConnection } from "@nats-io/transport-node";
import type { FailureInfo } from "../core/errors.js";
import type { JobStatus } from "../executiongraph/job-status.js";
import { getValue, listKeys, openBucket, putValue, type KV } from "./kv.js";
import { encode } from "../codec/codec.js";

/** The outcome of a job (Flink's JobResult), as answered by `requestJobResult`. */
export interface JobResult {
  jobId: string;
  name: string;
  state: JobStatus;
  startTime: number;
  endTime: number;
  netRuntimeMs: number;
  accumulators: Record<string, number>;
  failure: FailureInfo | null;
}

interface Entry {
  result: JobResult;
  /** false: recorded, cleanup of the job's other data still pending ("dirty"); true: all cleaned up. */
  clean: boolean;
}

/**
 * Results of globally terminal jobs (Flink's JobResultStore). A result is first written dirty,
 * then marked clean once the job's other HA data is removed; a job with a result never runs again.
 */
export class JobResultStore {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, bucket: string): Promise<JobResultStore> {
    return new JobResultStore(await openBucket(nc, bucket));
  }

  /** Records `result` dirty; returns its revision, for {@link markClean}. */
  async createDirty(result: JobResult): Promise<number> {
    return putValue(this.kv, result.jobId, { result, clean: false } satisfies Entry);
  }

  /**
   * Marks the result of `jobId` clean. `dirty`: the result and revision {@link createDirty} wrote, which
   * saves reading it back (a round trip at the end of every job); without it the entry is read.
   */
  async markClean(jobId: string, dirty?: { result: JobResult; revision: number }): Promise<void> {
    const e = dirty ? { value: { result: dirty.result, clean: false } satisfies Entry, revision: dirty.revision } : await getValue<Entry>(this.kv, jobId);
    if (e) await this.kv.update(jobId, encode({ ...e.value, clean: true } satisfies Entry), e.revision);
  }

  async get(jobId: string): Promise<JobResult | undefined> {
    return (await getValue<Entry>(this.kv, jobId))?.value.result;
  }

  async has(jobId: string): Promise<boolean> {
    return (await this.kv.get(jobId))?.operation === "PUT";
  }

  /** Every recorded result (for listing finished jobs after a restart). */
  async all(): Promise<JobResult[]> {
    const out: JobResult[] = [];
    for (const k of await listKeys(this.kv)) {
      const e = await getValue<Entry>(this.kv, k);
      if (e) out.push(e.value.result);
    }
    return out;
  }
}
