/**
 * The REST API's resources (docs/rest.md): each reads the Dispatcher over NATS and this process's
 * MetricStore, and answers Flink's bodies. Shared by the routes and the live events.
 */
import { EXECUTION_STATES } from "../executiongraph/execution-state.js";
import { ErrorCode, NotFoundError } from "../core/errors.js";
import type { JobDetails, VertexView } from "../../schemas/dispatcher-api.js";
import type { MetricQuery } from "../metrics/types.js";
import type { DispatcherReader } from "./dispatcher-reader.js";
import { HttpError } from "./http-reply.js";
import { clusterOverview, jobDetailsBody, jobsOverview } from "./rest-views.js";

const TERMINAL = new Set(["FINISHED", "CANCELED", "FAILED"]);

export class RestApi {
  constructor(
    readonly dispatcher: DispatcherReader,
    readonly metrics: MetricQuery,
    readonly version: string,
  ) {}

  async overview() {
    const [info, jobs] = await Promise.all([this.dispatcher.clusterInfo(), this.dispatcher.jobsOverview()]);
    return clusterOverview(info, jobs, this.version);
  }

  /** `/overview` and `/jobs/overview` from one read of the job list (the live events send both). */
  async overviewAndJobs() {
    const [info, jobs] = await Promise.all([this.dispatcher.clusterInfo(), this.dispatcher.jobsOverview()]);
    return { overview: clusterOverview(info, jobs, this.version), jobs: jobsOverview(jobs, Date.now()) };
  }

  async jobs() {
    return jobsOverview(await this.dispatcher.jobsOverview(), Date.now());
  }

  async job(jobId: string) {
    const [d, plan] = await Promise.all([this.dispatcher.job(jobId), this.dispatcher.plan(jobId)]);
    return jobDetailsBody(d, plan, this.metrics, EXECUTION_STATES, Date.now());
  }

  /** `GET /jobs/:jid/checkpoints` (Flink's CheckpointingStatistics; the settings are under `/config`). */
  async checkpoints(jobId: string) {
    const { config: _config, ...stats } = await this.dispatcher.checkpoints(jobId);
    return stats;
  }

  async checkpointConfig(jobId: string) {
    const { config } = await this.dispatcher.checkpoints(jobId);
    if (!config) throw new HttpError(404, ErrorCode.JobNotFound, `job ${jobId} does not checkpoint (its config has no checkpointing)`);
    return config;
  }

  /** `GET /jobs/:jid/exceptions` (Flink's JobExceptionsInfoWithHistory). */
  async exceptions(jobId: string) {
    const [d, h] = await Promise.all([this.dispatcher.job(jobId), this.dispatcher.exceptions(jobId)]);
    const root = d.failure;
    return {
      "root-exception": root ? (root.stack ?? `${root.name}: ${root.message}`) : null,
      timestamp: root ? (d.endTime ?? h.entries[0]?.timestamp ?? null) : null,
      "all-exceptions": [],
      truncated: h.truncated,
      exceptionHistory: h,
    };
  }

  /** The job's details and one of its vertices (404 when the job has no such vertex). */
  async vertex(jobId: string, vertexId: string): Promise<{ d: JobDetails; v: VertexView }> {
    const d = await this.dispatcher.job(jobId);
    const v = d.vertices.find((x) => x.id === vertexId);
    if (!v) throw new NotFoundError(ErrorCode.VertexNotFound, `job ${jobId} has no vertex ${vertexId}`);
    return { d, v };
  }

  /** The details of every job that has not ended (for the TaskExecutors' slots). */
  async runningJobs(): Promise<JobDetails[]> {
    const jobs = await this.dispatcher.jobsOverview();
    const running = jobs.filter((j) => !TERMINAL.has(j.state));
    const details = await Promise.all(running.map((j) => this.dispatcher.job(j.id).catch(() => undefined)));
    return details.filter((d): d is JobDetails => d !== undefined);
  }
}
