import type { NatsConnection } from "@nats-io/transport-node";
import { Actor, later, type MethodSpec } from "../../src/rpc/actor.js";
import type { Subjects } from "../../src/rpc/subjects.js";
import { ConflictError, ErrorCode, NotFoundError, EddyError } from "../../src/core/errors.js";
import type { Logger } from "../../src/core/logger.js";
import { orTimeout } from "../../src/core/time.js";
import { validateJobGraph } from "../../src/jobgraph/index.js";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";
import type { ExecutionPlanStore } from "../../src/ha/execution-plan-store.js";
import type { JobResult, JobResultStore } from "../../src/ha/job-result-store.js";
import type { LeaderInfo } from "../../src/ha/leader-retrieval.js";
import { s } from "../../src/schema/index.js";
import type { JobMaster } from "../jobmaster/job-master.js";
import type { TaskExecutorInfo } from "../resourcemanager/protocol.js";
import { detailsFromResult, JobArchive } from "./job-archive.js";
import { emptyJobViews, taskCounts, type JobViews } from "../jobmaster/job-details.js";
import {
  DisposeSavepointRequest,
  JobIdRequest,
  JobResultRequest,
  RescaleRequest,
  SavepointRequest,
  SubmitApplicationRequest,
  type JobOverview,
  type JobTasksOverview,
} from "./protocol.js";
import type { JobGraphSpec } from "../../src/jobgraph/types.js";
import type { BundleRef } from "../../src/blob/index.js";

/** How often a leading Dispatcher sweeps the checkpoint keys of ended jobs by default, ms. */
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

/** What the Dispatcher stands on: HA stores, a JobMaster factory, and cluster facts for `info`. */
export interface DispatcherServices {
  executionPlans: ExecutionPlanStore;
  jobResults: JobResultStore;
  /** Creates and starts the JobMaster of a validated, persisted job (Flink's JobManagerRunnerFactory). */
  createJobMaster(graph: ReturnType<typeof validateJobGraph>): Promise<JobMaster>;
  /** Deletes a savepoint (metadata and state). */
  disposeSavepoint(savepointId: string): Promise<void>;
  /**
   * Removes what a globally terminal job may have left when its JobManager died before cleaning up:
   * its BLOCKING partitions and checkpoints.
   */
  cleanupJob?(jobId: string): Promise<void>;
  /** Removes leftovers (BLOCKING partition streams) of jobs that are neither running nor recoverable. */
  sweepOrphans?(knownJobIds: ReadonlySet<string>): Promise<void>;
  /**
   * Removes the checkpoint keys of jobs for which `ended` holds: what a JobMaster of a former leader
   * wrote after the job's end. Run at the start of each term and every `sweepIntervalMs`.
   */
  sweepEndedJobs?(ended: (jobId: string) => Promise<boolean>): Promise<void>;
  /** How often the checkpoint keys of ended jobs are swept, ms (default {@link DEFAULT_SWEEP_INTERVAL_MS}). */
  sweepIntervalMs?: number;
  /** True while this process holds the leader lease (writes to the HA stores are skipped otherwise). */
  isLeader?(): boolean;
  /** Job bundles (user code): the store's check, and application mode's run of main. */
  bundles?: {
    /** Rejects (BundleNotFound, BundleCorrupt) unless the bundle is stored under its id. */
    check(ref: BundleRef): Promise<void>;
    /** Runs an application's main on the cluster side and answers its JobGraph, naming the bundle. */
    buildApplication(req: SubmitApplicationRequest): Promise<JobGraphSpec>;
  };
  /** Leaders and TaskExecutors for `clusterInfo`. */
  clusterInfo(): Promise<{ leaders: Record<string, Omit<LeaderInfo, "sessionId">>; taskExecutors: TaskExecutorInfo[]; web?: string | null }>;
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
  /** Jobs of the ExecutionPlanStore whose recovery failed and is being retried: INITIALIZING to clients. */
  private readonly recovering = new Map<string, { name: string; since: number }>();
  /** Jobs accepted whose JobMaster is being created (duplicate submissions are refused meanwhile). */
  private readonly submitting = new Set<string>();
  /** Ended jobs whose JobMaster still removes their checkpoints (the sweep leaves them to it). */
  private readonly cleaning = new Set<string>();
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
    this.serve(this.nc, { service: { role: "dispatcher" } });
    if (this.services.sweepEndedJobs) this.every(this.services.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS, () => this.sweepEndedJobs());
    this.log.info({ sessionId: this.leader.sessionId }, "Dispatcher leading");
  }

  private sweeping = false;

  /** Starts a sweep of ended jobs' checkpoint keys unless one runs (it runs outside the mailbox). */
  private sweepEndedJobs(): void {
    if (this.sweeping || !this.services.sweepEndedJobs) return;
    this.sweeping = true;
    this.background(
      this.services
        .sweepEndedJobs((jobId) => this.hasEnded(jobId))
        .catch((err) => this.log.warn({ err }, "sweeping the checkpoint keys of ended jobs failed"))
        .finally(() => (this.sweeping = false)),
    );
  }

  /** True when `jobId` has a recorded result (it never runs again) and no JobMaster here runs or cleans it up. */
  private async hasEnded(jobId: string): Promise<boolean> {
    if (this.running.has(jobId) || this.submitting.has(jobId) || this.recovering.has(jobId) || this.cleaning.has(jobId)) return false;
    return this.services.jobResults.has(jobId);
  }

  /**
   * Recovers the jobs of earlier leaders (Flink's Dispatcher bootstrap): the recorded results become
   * listable; every JobGraph in the ExecutionPlanStore whose result is recorded is only cleaned up
   * (a job with a result never runs again), every other one gets a JobMaster, which restores it
   * from its latest completed checkpoint. Resolves with the recovered job ids.
   */
  async recoverJobs(): Promise<string[]> {
    const results = await this.services.jobResults.all();
    const recovered: string[] = [];
    await this.runInMailbox(() => {
      for (const r of results.sort((a, b) => a.endTime - b.endTime))
        if (!this.archive.get(r.jobId)) this.archive.add({ details: detailsFromResult(r), result: r, views: emptyJobViews(r.jobId, r.name) });
    });
    const planned = await this.services.executionPlans.jobIds();
    // Every stored job is INITIALIZING to clients until it runs again or turns out to be finished.
    await this.runInMailbox(() => {
      for (const jobId of planned) if (!this.running.has(jobId) && !this.recovering.has(jobId)) this.recovering.set(jobId, { name: "", since: Date.now() });
    });
    for (const jobId of planned) {
      if (this.isFencedOff || this.isStopped) break;
      if (await this.runInMailbox(() => this.recoverJob(jobId))) recovered.push(jobId);
    }
    const known = new Set([...planned, ...this.running.keys()]);
    await this.services.sweepOrphans?.(known).catch((err) => this.log.warn({ err }, "sweeping leftovers of ended jobs failed"));
    // In the background: the term serves without waiting for it (it opens the checkpoints bucket).
    this.sweepEndedJobs();
    return recovered;
  }

  /**
   * Recovers one job of the ExecutionPlanStore (in the mailbox); true when a JobMaster runs it now.
   * A failure (the HA stores unreachable for a moment) is retried every 2 s while this Dispatcher leads.
   */
  private async recoverJob(jobId: string): Promise<boolean> {
    if (this.running.has(jobId) || this.submitting.has(jobId) || this.isFencedOff) return false;
    // A term that ended while the recovery went on (its revoke waits for the grant to finish) starts
    // no JobMaster: the job is the next leader's.
    if (this.services.isLeader && !this.services.isLeader()) return false;
    this.submitting.add(jobId);
    try {
      if (await this.services.jobResults.has(jobId)) {
        // Recorded but not cleaned up (the leader died in between): finish the cleanup only.
        await this.services.cleanupJob?.(jobId).catch((err) => this.log.warn({ err, jobId }, "cleaning up a finished job's leftovers failed"));
        await this.services.executionPlans.remove(jobId);
        await this.services.jobResults.markClean(jobId);
        this.recovering.delete(jobId);
        this.log.info({ jobId }, "finished job's leftover JobGraph removed");
        return false;
      }
      const graph = await this.services.executionPlans.get(jobId);
      if (!graph) {
        this.recovering.delete(jobId);
        return false;
      }
      this.recovering.set(jobId, { name: graph.name, since: this.recovering.get(jobId)?.since ?? Date.now() });
      const jm = await this.services.createJobMaster(graph);
      this.recovering.delete(jobId);
      this.track(jm);
      this.log.info({ jobId, name: graph.name }, "job recovered");
      return true;
    } catch (err) {
      this.log.error({ err, jobId }, "recovering the job failed; retrying in 2 s");
      this.schedule(2_000, () => this.recoverJob(jobId).then(() => undefined));
      return false;
    } finally {
      this.submitting.delete(jobId);
    }
  }

  /** Ends this Dispatcher's term at once: it and its JobMasters stop taking messages. */
  override fenceOff(): void {
    super.fenceOff();
    for (const jm of this.running.values()) jm.fenceOff();
  }

  protected methods(): Record<string, MethodSpec> {
    return {
      submitJob: { fence: "none", handle: (b: unknown) => this.submit(b) },
      submitApplication: {
        fence: "none",
        parse: s.parser(SubmitApplicationRequest),
        handle: (b: SubmitApplicationRequest) => later(this.submitApplication(b)),
      },
      listJobs: { fence: "none", handle: () => this.list() },
      requestJobsOverview: { fence: "none", handle: () => this.overview() },
      requestJob: { fence: "none", parse: s.parser(JobIdRequest), handle: (b: JobIdRequest) => this.requestJob(b.jobId) },
      // What the web server shows of a job besides its details (docs/rest.md).
      requestJobExceptions: { fence: "none", parse: s.parser(JobIdRequest), handle: (b: JobIdRequest) => this.jobViews(b.jobId).exceptions },
      requestJobCheckpoints: { fence: "none", parse: s.parser(JobIdRequest), handle: (b: JobIdRequest) => this.jobViews(b.jobId).checkpoints },
      requestJobPlan: { fence: "none", parse: s.parser(JobIdRequest), handle: (b: JobIdRequest) => this.jobViews(b.jobId).plan },
      cancelJob: { fence: "none", parse: s.parser(JobIdRequest), handle: (b: JobIdRequest) => this.cancelJob(b.jobId) },
      requestJobResult: { fence: "none", parse: s.parser(JobResultRequest), handle: (b: JobResultRequest) => this.requestJobResult(b) },
      clusterInfo: { fence: "none", handle: () => later(this.services.clusterInfo()) },
      triggerSavepoint: { fence: "none", parse: s.parser(SavepointRequest), handle: (b: SavepointRequest) => this.triggerSavepoint(b) },
      rescaleJob: { fence: "none", parse: s.parser(RescaleRequest), handle: (b: RescaleRequest) => this.rescaleJob(b) },
      disposeSavepoint: {
        fence: "none",
        parse: s.parser(DisposeSavepointRequest),
        handle: (b: DisposeSavepointRequest) => later(this.services.disposeSavepoint(b.savepointId).then(() => ({ ok: true }))),
      },
    };
  }

  private async submit(body: unknown) {
    const graph = validateJobGraph(body, builtinRegistry);
    const jobId = graph.jobId;
    if (this.running.has(jobId) || this.submitting.has(jobId))
      throw new ConflictError(ErrorCode.DuplicateJobId, `job ${jobId} is already running; submit with another jobId or none`);
    // An id the submission names may be one that ran; one made here for it is new (a round trip saved).
    const named = typeof (body as { jobId?: unknown } | null)?.jobId === "string";
    if (this.archive.get(jobId) || (named && (await this.services.jobResults.has(jobId))))
      throw new ConflictError(ErrorCode.DuplicateJobId, `job ${jobId} has already finished; a job id runs once`);
    this.submitting.add(jobId);
    try {
      if (graph.bundle) await this.checkBundle(graph.bundle);
      await this.services.executionPlans.put(graph);
      let jm: JobMaster;
      try {
        jm = await this.services.createJobMaster(graph);
      } catch (err) {
        await this.services.executionPlans
          .remove(jobId)
          .catch((e: unknown) => this.log.warn({ err: e, jobId }, "removing the plan of a job whose JobMaster did not start failed"));
        throw err;
      }
      this.track(jm);
      this.log.info({ jobId, name: graph.name }, "job submitted");
    } finally {
      this.submitting.delete(jobId);
    }
    return { jobId };
  }

  private track(jm: JobMaster): void {
    this.running.set(jm.graph.jobId, jm);
    this.background(jm.resultFuture.then((r) => this.runInMailbox(() => this.jobReachedTerminalState(jm, r))));
  }

  /** A JobGraph naming a bundle is accepted only when the bundle is stored under its id. */
  private async checkBundle(ref: BundleRef): Promise<void> {
    if (!this.services.bundles)
      throw new NotFoundError(ErrorCode.BundleNotFound, `this cluster keeps no bundles; bundle ${ref.id} cannot be run here`, { details: { bundle: ref.id } });
    await this.services.bundles.check(ref);
  }

  /**
   * Application mode: runs the application's main outside the mailbox (the bundle is fetched and
   * main runs isolated, with a timeout), then submits the JobGraph it built like submitJob.
   */
  private async submitApplication(req: SubmitApplicationRequest): Promise<{ jobId: string }> {
    if (!this.services.bundles)
      throw new NotFoundError(ErrorCode.BundleNotFound, `this cluster keeps no bundles; bundle ${req.bundle.id} cannot be run here`, {
        details: { bundle: req.bundle.id },
      });
    if (req.jobId !== undefined && (this.running.has(req.jobId) || this.submitting.has(req.jobId)))
      throw new ConflictError(ErrorCode.DuplicateJobId, `job ${req.jobId} is already running; submit with another jobId or none`);
    const spec = await this.services.bundles.buildApplication(req);
    this.log.info({ bundle: req.bundle.id, name: spec.name }, "application built its JobGraph");
    return this.runInMailbox(() => this.submit(spec));
  }

  private async jobReachedTerminalState(jm: JobMaster, result: JobResult): Promise<void> {
    const jobId = result.jobId;
    this.archive.add({ details: jm.details(), result, views: jm.views() });
    this.running.delete(jobId);
    try {
      // A former leader records nothing: the job is the new leader's now.
      if (this.services.isLeader && !this.services.isLeader()) throw new EddyError(ErrorCode.NotLeader, "leadership lost before the result was recorded");
      const revision = await this.services.jobResults.createDirty(result);
      await this.services.executionPlans.remove(jobId);
      await this.services.jobResults.markClean(jobId, { result, revision });
    } catch (err) {
      this.log.error({ err, jobId }, "recording the job result failed");
    }
    for (const w of this.waiters.get(jobId) ?? []) w.settle(result);
    this.waiters.delete(jobId);
    this.log.info({ jobId, state: result.state }, "job result recorded");
    // The JobMaster's own cleanup (its checkpoints' removal, seconds) must not hold up the Dispatcher.
    this.cleaning.add(jobId);
    this.background(jm.stop().finally(() => this.cleaning.delete(jobId)));
  }

  private list(): JobOverview[] {
    const out: JobOverview[] = [];
    for (const [id, r] of this.recovering) out.push({ id, name: r.name, state: "INITIALIZING", startTime: r.since, endTime: null });
    for (const jm of this.running.values())
      out.push({ id: jm.graph.jobId, name: jm.graph.jobName, state: jm.graph.state, startTime: jm.startTime, endTime: null });
    for (const a of this.archive.values())
      out.push({ id: a.result.jobId, name: a.result.name, state: a.result.state, startTime: a.result.startTime, endTime: a.result.endTime });
    return out.sort((a, b) => a.startTime - b.startTime);
  }

  /** Every job with its subtasks counted by state (the web server's job list). */
  private overview(): JobTasksOverview[] {
    return this.list().map((j) => {
      const vertices = this.running.get(j.id)?.details().vertices ?? this.archive.get(j.id)?.details.vertices ?? [];
      return { ...j, tasks: taskCounts(vertices) };
    });
  }

  private requestJob(jobId: string) {
    const jm = this.running.get(jobId);
    if (jm) return jm.details();
    const r = this.recovering.get(jobId);
    if (r)
      return {
        ...detailsFromResult({ jobId, name: r.name, state: "INITIALIZING", startTime: r.since, endTime: 0, netRuntimeMs: 0, accumulators: {}, failure: null }),
        endTime: null,
        timestamps: { INITIALIZING: r.since },
      };
    const a = this.archive.get(jobId);
    if (a) return a.details;
    throw notFound(jobId);
  }

  private jobViews(jobId: string): JobViews {
    const jm = this.running.get(jobId);
    if (jm) return jm.views();
    const r = this.recovering.get(jobId);
    if (r) return emptyJobViews(jobId, r.name);
    const a = this.archive.get(jobId);
    if (a) return a.views;
    throw notFound(jobId);
  }

  private async cancelJob(jobId: string) {
    if (this.recovering.has(jobId)) throw initializing(jobId);
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

  /**
   * Keeps declared bounds with the stored JobGraph (Flink's ExecutionPlanWriter.putJobResourceRequirements),
   * so the JobMaster of a new leader starts the job with them. A failure is logged: the running job has them.
   */
  private async persistRequirements(jobId: string, vertexId: string, bounds: { lower: number; upper: number }): Promise<void> {
    try {
      const g = await this.services.executionPlans.get(jobId);
      if (!g || (this.services.isLeader && !this.services.isLeader())) return;
      g.config.resourceRequirements = { ...(g.config.resourceRequirements ?? {}), [vertexId]: bounds };
      await this.services.executionPlans.put(g);
    } catch (err) {
      this.log.warn({ err, jobId, vertexId }, "the declared bounds could not be stored with the JobGraph; a recovered job would not keep them");
    }
  }

  /** Declares a vertex's parallelism bounds of a running job (only the adaptive scheduler rescales). */
  private rescaleJob(b: RescaleRequest) {
    const jm = this.running.get(b.jobId);
    if (!jm) {
      if (this.archive.get(b.jobId)) throw new ConflictError(ErrorCode.JobAlreadyTerminal, `job ${b.jobId} has ended; nothing to rescale`);
      throw notFound(b.jobId);
    }
    if (b.parallelism !== undefined && (b.min !== undefined || b.max !== undefined))
      throw new EddyError(ErrorCode.MalformedRequest, "give either parallelism or min/max, not both");
    if (b.parallelism === undefined && b.min === undefined && b.max === undefined)
      throw new EddyError(ErrorCode.MalformedRequest, "give parallelism, or min and/or max");
    const bounds =
      b.parallelism !== undefined
        ? { lower: b.parallelism, upper: b.parallelism }
        : { ...(b.min !== undefined ? { lower: b.min } : {}), ...(b.max !== undefined ? { upper: b.max } : {}) };
    return later(
      jm.rescale(b.vertexId, bounds).then(async (r) => {
        await this.persistRequirements(b.jobId, b.vertexId, { lower: r.lower, upper: r.upper });
        return { jobId: b.jobId, vertexId: r.vertexId, min: r.lower, max: r.upper };
      }),
    );
  }

  private triggerSavepoint(b: SavepointRequest) {
    const jm = this.running.get(b.jobId);
    if (!jm) throw this.recovering.has(b.jobId) ? initializing(b.jobId) : notFound(b.jobId);
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
    const timeout = new Promise<never>(
      (_, reject) => (t = setTimeout(() => reject(new EddyError(ErrorCode.RpcTimeout, `savepoint of ${b.jobId} not complete within ${wait} ms`)), wait)),
    );
    return later(Promise.race([sp, timeout]).finally(() => clearTimeout(t)));
  }

  private async requestJobResult(b: JobResultRequest) {
    const done = this.archive.get(b.jobId)?.result ?? (this.running.has(b.jobId) ? undefined : await this.services.jobResults.get(b.jobId));
    if (done) return resultReply(done);
    if (!this.running.has(b.jobId) && !this.recovering.has(b.jobId)) throw notFound(b.jobId);
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

function initializing(jobId: string) {
  return new EddyError(ErrorCode.JobInitializing, `job ${jobId} is being recovered by the leading JobManager; ask again in a moment`);
}

function notFound(jobId: string) {
  return new NotFoundError(ErrorCode.JobNotFound, `no job ${jobId}; \`eddy list\` shows the known jobs`);
}

function resultReply(r: JobResult) {
  return { jobId: r.jobId, state: r.state, netRuntimeMs: r.netRuntimeMs, accumulators: r.accumulators, failure: r.failure };
}
