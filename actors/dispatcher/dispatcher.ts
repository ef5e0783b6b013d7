import type { NatsConnection } from "@nats-io/transport-node";
import { Actor, later, type MethodSpec } from "../../src/rpc/actor.js";
import type { Subjects } from "../../src/rpc/subjects.js";
import { ConflictError, ErrorCode, NotFoundError, EddyError } from "../../src/core/errors.js";
import type { Logger } from "../../src/core/logger.js";
import { orTimeout } from "../../src/core/time.js";
import { validateJobGraph } from "../../src/jobgraph/index.js";
import type { ExecutionPlanStore } from "../../src/ha/execution-plan-store.js";
import type { JobResult, JobResultStore } from "../../src/ha/job-result-store.js";
import type { LeaderInfo } from "../../src/ha/leader-election.js";
import { s } from "../../src/schema/index.js";
import type { JobMaster } from "../jobmaster/job-master.js";
import type { TaskExecutorInfo } from "../resourcemanager/protocol.js";
import { JobArchive } from "./job-archive.js";
import { DisposeSavepointRequest, JobIdRequest, JobResultRequest, SavepointRequest, type JobOverview } from "./protocol.js";

/** What the Dispatcher stands on: HA stores, a JobMaster factory, and cluster facts for `info`. */
export interface DispatcherServices {
  executionPlans: ExecutionPlanStore;
  jobResults: JobResultStore;
  /** Creates and starts the JobMaster of a validated, persisted job (Flink's JobManagerRunnerFactory). */
  createJobMaster(graph: ReturnType<typeof validateJobGraph>): Promise<JobMaster>;
  /** Deletes a savepoint (metadata and state). */
  disposeSavepoint(savepointId: string): Promise<void>;
  /** Leaders and TaskExecutors for `clusterInfo`. */
  clusterInfo(): Promise<{ leaders: Record<string, Omit<LeaderInfo, "sessionId">>; taskExecutors: TaskExecutorInfo[] }>;
}

/**
 * The Dispatcher (Flink's Dispatcher): accepts job submissions, refuses duplicates, persists
 * each JobGraph, starts a JobMaster per job, answers list / status / cancel / result, and records
 * each JobResult. Its public API methods are unfenced (any NATS client may call them); it only
 * serves while it leads.
 */
export class Dispatcher extends Actor {
  readonly address: string;
  private readonly running = new Map<string, JobMaster>();
  /** Jobs accepted whose JobMaster is being created (duplicate submissions are refused meanwhile). */
  private readonly submitting = new Set<string>();
  private readonly archive = new JobArchive();
  /** Long polls of requestJobResult, per job: settled on the result, on their timeout, or on stop. */
  private readonly waiters = new Map<string, Set<ResultWaiter>>();

  constructor(
    private readonly nc: NatsConnection,
    subjects: Subjects,
    readonly leader: LeaderInfo,
    private readonly services: DispatcherServices,
    log: Logger,
  ) {
    super();
    this.address = subjects.dispatcher;
    this.log = log.child({ actor: "Dispatcher" });
  }

  protected override fencingToken(): string {
    return this.leader.sessionId;
  }

  start(): void {
    this.serve(this.nc);
    this.log.info({ sessionId: this.leader.sessionId }, "Dispatcher leading");
  }

  protected methods(): Record<string, MethodSpec> {
    return {
      submitJob: { fence: "none", handle: (b: unknown) => this.submit(b) },
      listJobs: { fence: "none", handle: () => this.list() },
      requestJob: { fence: "none", parse: s.parser(JobIdRequest), handle: (b: JobIdRequest) => this.requestJob(b.jobId) },
      cancelJob: { fence: "none", parse: s.parser(JobIdRequest), handle: (b: JobIdRequest) => this.cancelJob(b.jobId) },
      requestJobResult: { fence: "none", parse: s.parser(JobResultRequest), handle: (b: JobResultRequest) => this.requestJobResult(b) },
      clusterInfo: { fence: "none", handle: () => later(this.services.clusterInfo()) },
      triggerSavepoint: { fence: "none", parse: s.parser(SavepointRequest), handle: (b: SavepointRequest) => this.triggerSavepoint(b) },
      disposeSavepoint: {
        fence: "none",
        parse: s.parser(DisposeSavepointRequest),
        handle: (b: DisposeSavepointRequest) => later(this.services.disposeSavepoint(b.savepointId).then(() => ({ ok: true }))),
      },
    };
  }

  private async submit(body: unknown) {
    const graph = validateJobGraph(body);
    const jobId = graph.jobId;
    if (this.running.has(jobId) || this.submitting.has(jobId))
      throw new ConflictError(ErrorCode.DuplicateJobId, `job ${jobId} is already running; submit with another jobId or none`);
    if (this.archive.get(jobId) || (await this.services.jobResults.has(jobId)))
      throw new ConflictError(ErrorCode.DuplicateJobId, `job ${jobId} has already finished; a job id runs once`);
    this.submitting.add(jobId);
    try {
      await this.services.executionPlans.put(graph);
      let jm: JobMaster;
      try {
        jm = await this.services.createJobMaster(graph);
      } catch (err) {
        await this.services.executionPlans.remove(jobId).catch(() => undefined);
        throw err;
      }
      this.running.set(jobId, jm);
      this.log.info({ jobId, name: graph.name }, "job submitted");
      this.background(jm.resultFuture.then((r) => this.runInMailbox(() => this.jobReachedTerminalState(jm, r))));
    } finally {
      this.submitting.delete(jobId);
    }
    return { jobId };
  }

  private async jobReachedTerminalState(jm: JobMaster, result: JobResult): Promise<void> {
    const jobId = result.jobId;
    this.archive.add({ details: jm.details(), result });
    this.running.delete(jobId);
    try {
      await this.services.jobResults.createDirty(result);
      await this.services.executionPlans.remove(jobId);
      await this.services.jobResults.markClean(jobId);
    } catch (err) {
      this.log.error({ err, jobId }, "recording the job result failed");
    }
    for (const w of this.waiters.get(jobId) ?? []) w.settle(result);
    this.waiters.delete(jobId);
    await jm.stop();
    this.log.info({ jobId, state: result.state }, "job result recorded");
  }

  private list(): JobOverview[] {
    const out: JobOverview[] = [];
    for (const jm of this.running.values())
      out.push({ id: jm.graph.jobId, name: jm.graph.jobName, state: jm.graph.state, startTime: jm.startTime, endTime: null });
    for (const a of this.archive.values())
      out.push({ id: a.result.jobId, name: a.result.name, state: a.result.state, startTime: a.result.startTime, endTime: a.result.endTime });
    return out.sort((a, b) => a.startTime - b.startTime);
  }

  private requestJob(jobId: string) {
    const jm = this.running.get(jobId);
    if (jm) return jm.details();
    const a = this.archive.get(jobId);
    if (a) return a.details;
    throw notFound(jobId);
  }

  private async cancelJob(jobId: string) {
    const jm = this.running.get(jobId);
    if (jm) {
      await jm.cancel();
      return { ok: true };
    }
    const a = this.archive.get(jobId);
    if (a || (await this.services.jobResults.has(jobId))) {
      const state = a?.result.state ?? (await this.services.jobResults.get(jobId))?.state;
      if (state === "CANCELED") return { ok: true };
      throw new ConflictError(ErrorCode.JobAlreadyTerminal, `job ${jobId} already ended ${state}; nothing to cancel`);
    }
    throw notFound(jobId);
  }

  private triggerSavepoint(b: SavepointRequest) {
    const jm = this.running.get(b.jobId);
    if (!jm) throw notFound(b.jobId);
    const wait = b.timeoutMs ?? 300_000;
    const sp = jm.triggerSavepoint(b.stop === true).then(async (savepointId) => {
      if (b.stop) {
        // The sources ended after the savepoint: the job drains to FINISHED. One that does not end
        // (a source that never yields) is canceled after a minute; the savepoint stands either way.
        const ended = await orTimeout(jm.resultFuture, 60_000);
        if (!ended) await jm.cancel();
      }
      return { savepointId };
    });
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new EddyError(ErrorCode.RpcTimeout, `savepoint of ${b.jobId} not complete within ${wait} ms`)), wait)));
    return later(Promise.race([sp, timeout]).finally(() => clearTimeout(t)));
  }

  private async requestJobResult(b: JobResultRequest) {
    const done = this.archive.get(b.jobId)?.result ?? (this.running.has(b.jobId) ? undefined : await this.services.jobResults.get(b.jobId));
    if (done) return resultReply(done);
    if (!this.running.has(b.jobId)) throw notFound(b.jobId);
    const wait = b.timeoutMs ?? 0;
    const notReady = () => new EddyError(ErrorCode.JobResultNotReady, `job ${b.jobId} is still running; ask again`);
    if (wait === 0) throw notReady();
    return later(
      new Promise((resolve, reject) => {
        const set = this.waiters.get(b.jobId) ?? new Set<ResultWaiter>();
        this.waiters.set(b.jobId, set);
        const w: ResultWaiter = {
          timer: setTimeout(() => w.settle(notReady()), wait),
          settle: (r) => {
            clearTimeout(w.timer);
            set.delete(w);
            if (r instanceof Error) reject(r);
            else resolve(resultReply(r));
          },
        };
        set.add(w);
      }),
    );
  }

  /** Cancels every running job's JobMaster and stops serving. */
  async stop(): Promise<void> {
    for (const set of this.waiters.values())
      for (const w of set) w.settle(new EddyError(ErrorCode.Shutdown, "the Dispatcher is shutting down; ask the new leader"));
    this.waiters.clear();
    await this.stopActor();
    for (const jm of this.running.values()) await jm.stop();
    this.running.clear();
  }
}

interface ResultWaiter {
  timer: NodeJS.Timeout;
  settle(r: JobResult | Error): void;
}

function notFound(jobId: string) {
  return new NotFoundError(ErrorCode.JobNotFound, `no job ${jobId}; \`eddy list\` shows the known jobs`);
}

function resultReply(r: JobResult) {
  return { jobId: r.jobId, state: r.state, netRuntimeMs: r.netRuntimeMs, accumulators: r.accumulators, failure: r.failure };
}
