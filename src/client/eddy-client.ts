/**
 * The typed client of a cluster's Dispatcher for programs (Flink's RestClusterClient): connect as a
 * role, submit a JobGraph or a job file (its code shipped as a bundle), list, status, wait for a
 * result, cancel, savepoint, rescale, and follow a job's state.
 */
import { resolvePrefix } from "../core/config.js";
import { sleep } from "../core/time.js";
import { DispatcherClient } from "./dispatcher-client.js";
import { waitForJobResult, type WaitResultOptions } from "./job-result.js";
import { resolveNatsTarget } from "../security/context.js";
import { Subjects } from "../rpc/subjects.js";
import type { JobGraphSpec } from "../jobgraph/types.js";
import type { ClusterInfo, JobDetails, JobOverview, JobResultReply, RescaleReply, SubmitApplicationRequest } from "../../schemas/dispatcher-api.js";

export type { ClusterInfo, JobDetails, JobOverview, JobResultReply, RescaleReply, JobGraphSpec };

/** Where to connect: a URL and/or a NATS context file (as `--nats`/`--context`), and the subject prefix. */
export interface ConnectOptions {
  url?: string;
  context?: string;
  /** Default: EDDY_PREFIX, else `eddy`. */
  prefix?: string;
}

/** A job's state as {@link EddyClient.watchState} reports it. */
export interface JobStateChange {
  jobId: string;
  state: string;
  at: number;
}

const SUBMIT_TIMEOUT_MS = 60_000;

/** A connection to a cluster's Dispatcher. */
export class EddyClient {
  private constructor(
    private readonly c: DispatcherClient,
    readonly prefix: string,
  ) {}

  /** A client over an open Dispatcher connection (the CLI's). */
  static over(connection: DispatcherClient, prefix: string): EddyClient {
    return new EddyClient(connection, prefix);
  }

  /** The underlying connection (its NATS connection, and whether the Dispatcher ever answered). */
  get connection(): DispatcherClient {
    return this.c;
  }

  /** Connects (ClusterUnreachable, NotAuthenticated or MalformedRequest for a bad context). */
  static async connect(opts: ConnectOptions = {}): Promise<EddyClient> {
    const target = resolveNatsTarget({ ...(opts.url ? { nats: opts.url } : {}), ...(opts.context ? { context: opts.context } : {}) });
    const prefix = opts.prefix ?? resolvePrefix();
    return new EddyClient(await DispatcherClient.connect(target.url, prefix, "eddy-client", target.auth), prefix);
  }

  /** Submits a JobGraph (one naming a bundle needs it uploaded first: {@link submitJobFile} does both). */
  async submit(graph: JobGraphSpec): Promise<string> {
    return (await this.c.ask<{ jobId: string }>("submitJob", graph, SUBMIT_TIMEOUT_MS)).jobId;
  }

  /** Builds the job in `file` (its main runs here), uploads its code and submits it; answers the job id. */
  async submitJobFile(file: string, opts: { args?: string[]; parallelism?: number } = {}): Promise<string> {
    const { buildJob } = await import("../sdk/load-job.js");
    const { spec, bundle } = await buildJob(file, opts.args ?? [], opts.parallelism === undefined ? {} : { parallelism: opts.parallelism });
    await this.uploadBundle(bundle.bytes);
    return this.submit(spec);
  }

  /** Stores a job bundle in the cluster's bundle store (nothing is sent when it is there already). */
  async uploadBundle(bytes: Uint8Array): Promise<void> {
    const { BundleStore } = await import("../blob/index.js");
    await (await BundleStore.open(this.c.nc, new Subjects(this.prefix))).put(bytes);
  }

  /** Application mode: the Dispatcher runs the uploaded bundle's main (Flink's application clusters). */
  async submitApplication(request: SubmitApplicationRequest, timeoutMs = 150_000): Promise<string> {
    return (await this.c.ask<{ jobId: string }>("submitApplication", request, timeoutMs)).jobId;
  }

  async list(): Promise<JobOverview[]> {
    const reply = await this.c.ask<JobOverview[] | { jobs: JobOverview[] }>("listJobs", {});
    return Array.isArray(reply) ? reply : (reply?.jobs ?? []);
  }

  status(jobId: string): Promise<JobDetails> {
    return this.c.ask<JobDetails>("requestJob", { jobId });
  }

  clusterInfo(): Promise<ClusterInfo> {
    return this.c.ask<ClusterInfo>("clusterInfo", {});
  }

  /**
   * Waits for the job's terminal result (long polls, riding out a JobManager failover for a while;
   * `deadlineMs` bounds the whole wait).
   */
  result(jobId: string, opts: WaitResultOptions = {}): Promise<JobResultReply> {
    return waitForJobResult(this.c, jobId, opts);
  }

  async cancel(jobId: string): Promise<void> {
    await this.c.ask("cancelJob", { jobId });
  }

  /** Takes a savepoint (with `stop`, the job is canceled once it is complete); answers its id. */
  async savepoint(jobId: string, opts: { stop?: boolean; timeoutMs?: number } = {}): Promise<string> {
    const timeoutMs = opts.timeoutMs ?? 120_000;
    return (await this.c.ask<{ savepointId: string }>("triggerSavepoint", { jobId, stop: opts.stop === true, timeoutMs }, timeoutMs + 5_000)).savepointId;
  }

  /** Deletes a savepoint (its metadata and state). */
  async disposeSavepoint(savepointId: string): Promise<void> {
    await this.c.ask("disposeSavepoint", { savepointId });
  }

  /** Declares a vertex's parallelism bounds (adaptive scheduler). */
  rescale(jobId: string, vertexId: string, bounds: { parallelism?: number; min?: number; max?: number }): Promise<RescaleReply> {
    return this.c.ask<RescaleReply>("rescaleJob", { jobId, vertexId, ...bounds });
  }

  /**
   * The job's state changes, polled every `intervalMs` (default 500), ending after the terminal one
   * or when `signal` aborts.
   */
  async *watchState(jobId: string, opts: { intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<JobStateChange> {
    let last: string | undefined;
    while (!opts.signal?.aborted) {
      const d = await this.status(jobId);
      if (d.state !== last) {
        last = d.state;
        yield { jobId, state: d.state, at: Date.now() };
        if (["FINISHED", "FAILED", "CANCELED"].includes(d.state)) return;
      }
      await sleep(opts.intervalMs ?? 500);
    }
  }

  async close(): Promise<void> {
    await this.c.close();
  }
}
