/**
 * What the web server asks the leading Dispatcher, over NATS like any client (so a standby JobManager
 * answers the same as the leader), or, in the leader's own process, by a direct call into its mailbox. Reads have a short timeout; the cluster view (TaskExecutors and
 * leaders), asked by most pages, is shared for a moment between requests.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { Gateway } from "../rpc/gateway.js";
import { EddyError, ErrorCode } from "../core/errors.js";
import { withTimeout } from "../core/time.js";
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
/** How long a cluster view is reused, ms. */
const CLUSTER_TTL_MS = 250;

/** The Dispatcher of this process, called without NATS ({@link Actor.callLocal}). */
export interface LocalDispatcher {
  callLocal<R>(method: string, body: unknown): Promise<R>;
}

export class DispatcherReader {
  private readonly gw: Gateway;
  private cluster: { at: number; info: Promise<ClusterInfo> } | undefined;

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

  clusterInfo(): Promise<ClusterInfo> {
    const now = Date.now();
    if (this.cluster && now - this.cluster.at < CLUSTER_TTL_MS) return this.cluster.info;
    const info = this.ask<ClusterInfo>("clusterInfo");
    const entry = { at: now, info };
    this.cluster = entry;
    info.catch(() => {
      if (this.cluster === entry) this.cluster = undefined;
    });
    return info;
  }

  jobsOverview(): Promise<JobTasksOverview[]> {
    return this.ask("requestJobsOverview");
  }
  job(jobId: string): Promise<JobDetails> {
    return this.ask("requestJob", { jobId });
  }
  plan(jobId: string): Promise<JobPlanView> {
    return this.ask("requestJobPlan", { jobId });
  }
  checkpoints(jobId: string): Promise<CheckpointStatsView> {
    return this.ask("requestJobCheckpoints", { jobId });
  }
  exceptions(jobId: string): Promise<ExceptionHistoryView> {
    return this.ask("requestJobExceptions", { jobId });
  }
  cancel(jobId: string): Promise<unknown> {
    return this.ask("cancelJob", { jobId }, 30_000);
  }
  /** Resolves with the savepoint's id once it is complete (up to `timeoutMs`). */
  savepoint(jobId: string, stop: boolean, timeoutMs: number): Promise<{ savepointId: string }> {
    return this.ask("triggerSavepoint", { jobId, stop, timeoutMs }, timeoutMs + 5_000);
  }
  rescale(jobId: string, vertexId: string, min: number, max: number): Promise<RescaleReply> {
    return this.ask("rescaleJob", { jobId, vertexId, min, max }, 30_000);
  }
}
