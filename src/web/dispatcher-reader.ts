/**
 * What the web server asks the leading Dispatcher, over NATS like any client (so a standby JobManager
 * answers the same as the leader), or, in the leader's own process, by a direct call into its
 * mailbox. Reads have a short timeout, and each answer is shared for a moment between the requests
 * that ask the same ({@link ShortLived}).
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { Gateway } from "../rpc/gateway.js";
import { EddyError, ErrorCode } from "../core/errors.js";
import { withTimeout } from "../core/time.js";
import { ShortLived } from "./short-lived.js";
import type { Subjects } from "../rpc/subjects.js";
import type {
  CheckpointStatsView,
  ClusterInfo,
  ExceptionHistoryView,
  JobDetails,
  JobPlanView,
  JobTasksOverview,
  RescaleReply,
} from "../../schemas/dispatcher-api.js";

/** Timeout of one read, ms. */
const READ_TIMEOUT_MS = 5_000;
/**
 * How long an answer is shared between requests, ms: well inside the dashboard's one second, and a
 * write made through this reader (cancel, savepoint, rescale) forgets every answer at once.
 */
export const READ_TTL_MS = 250;

/** The Dispatcher of this process, called without NATS ({@link Actor.callLocal}). */
export interface LocalDispatcher {
  callLocal<R>(method: string, body: unknown): Promise<R>;
}

export class DispatcherReader {
  private readonly gw: Gateway;
  private readonly reads = new ShortLived<string, unknown>(READ_TTL_MS);

  /** `local`: the Dispatcher of this process while it leads (its calls skip NATS), else undefined. */
  constructor(
    nc: NatsConnection,
    subjects: Subjects,
    private readonly local: () => LocalDispatcher | undefined = () => undefined,
  ) {
    this.gw = new Gateway(nc, subjects.dispatcher);
  }

  private async ask<R>(method: string, body: unknown = {}, timeoutMs = READ_TIMEOUT_MS): Promise<R> {
    const local = this.local();
    if (local) {
      try {
        return await withTimeout(local.callLocal<R>(method, body), timeoutMs, `${method} of the local Dispatcher`);
      } catch (err) {
        // The term ended meanwhile: the leader, wherever it is now, answers over NATS.
        if (!(err instanceof EddyError && err.code === ErrorCode.NotLeader)) throw err;
      }
    }
    return this.gw.ask<R>(method, body, { timeoutMs });
  }

  /** A read shared for {@link READ_TTL_MS} between the requests that ask the same. */
  private read<R>(method: string, body: { jobId?: string } = {}): Promise<R> {
    return this.reads.get(`${method} ${body.jobId ?? ""}`, () => this.ask<R>(method, body)) as Promise<R>;
  }

  /** Runs a write; every answer read before it is forgotten. */
  private async write<R>(method: string, body: unknown, timeoutMs: number): Promise<R> {
    try {
      return await this.ask<R>(method, body, timeoutMs);
    } finally {
      this.reads.clear();
    }
  }

  clusterInfo(): Promise<ClusterInfo> {
    return this.read("clusterInfo");
  }
  jobsOverview(): Promise<JobTasksOverview[]> {
    return this.read("requestJobsOverview");
  }
  job(jobId: string): Promise<JobDetails> {
    return this.read("requestJob", { jobId });
  }
  plan(jobId: string): Promise<JobPlanView> {
    return this.read("requestJobPlan", { jobId });
  }
  checkpoints(jobId: string): Promise<CheckpointStatsView> {
    return this.read("requestJobCheckpoints", { jobId });
  }
  exceptions(jobId: string): Promise<ExceptionHistoryView> {
    return this.read("requestJobExceptions", { jobId });
  }
  cancel(jobId: string): Promise<unknown> {
    return this.write("cancelJob", { jobId }, 30_000);
  }
  /** Resolves with the savepoint's id once it is complete (up to `timeoutMs`). */
  savepoint(jobId: string, stop: boolean, timeoutMs: number): Promise<{ savepointId: string }> {
    return this.write("triggerSavepoint", { jobId, stop, timeoutMs }, timeoutMs + 5_000);
  }
  rescale(jobId: string, vertexId: string, min: number, max: number): Promise<RescaleReply> {
    return this.write("rescaleJob", { jobId, vertexId, min, max }, 30_000);
  }
}
