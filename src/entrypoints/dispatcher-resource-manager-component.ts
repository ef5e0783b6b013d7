/**
 * What a JobManager runs while it leads (Flink's DispatcherResourceManagerComponent): the
 * ResourceManager, the Dispatcher and, through it, a JobMaster per job, each with a fresh session
 * id for the term, published in the leaders bucket for TaskExecutors and tools to follow. Started
 * when the lease is granted, stopped when it is revoked.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { EddyError, ErrorCode } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Subjects } from "../rpc/subjects.js";
import { Gateway } from "../rpc/gateway.js";
import type { ExecutionPlanStore } from "../ha/execution-plan-store.js";
import type { JobResultStore } from "../ha/job-result-store.js";
import { jobMasterLeaderKey, LeaderPublisher, type LeaderInfo } from "../ha/leader-retrieval.js";
import type { LeaseHolder } from "../ha/lease-leader-election.js";
import { PublishedLeaderGuard } from "../ha/published-leader-guard.js";
import { Dispatcher, type DispatcherServices } from "../../actors/dispatcher/dispatcher.js";
import { ResourceManager } from "../../actors/resourcemanager/resource-manager.js";
import { JobMaster } from "../../actors/jobmaster/job-master.js";
import { CheckpointStorage, CompletedCheckpointStore, SavepointStore, sweepCheckpointKeys } from "../checkpoint/index.js";
import { releaseBlockingPartitions, sweepBlockingStreams } from "../network/index.js";
import type { SchedulerFactoryOptions } from "../../actors/jobmaster/scheduler-factory.js";

/** What one leadership term needs. */
export interface ComponentServices {
  nc: NatsConnection;
  subjects: Subjects;
  log: Logger;
  plans: ExecutionPlanStore;
  results: JobResultStore;
  publisher: LeaderPublisher;
  /** True while the lease is held (checked before writes that must come from the leader). */
  isLeader(): boolean;
  /** Job bundles: the store's check and application mode (the JobManager process's, kept across terms). */
  bundles?: DispatcherServices["bundles"];
  heartbeatTimeoutMs?: number;
  /** How often the Dispatcher sweeps the checkpoint keys of ended jobs, ms. */
  sweepIntervalMs?: number;
  slotRequestTimeoutMs?: number;
  /** The cluster's scheduler settings, passed to every JobMaster. */
  scheduling?: SchedulerFactoryOptions;
  /** This JobManager's HTTP address, published with the Dispatcher's leader info. */
  webUrl?: string;
}

/** The components of one leadership term. */
export interface LeaderComponents {
  readonly dispatcher: Dispatcher;
  readonly resourceManager: ResourceManager;
  /** Stops serving at once (synchronously unsubscribes), then suspends the jobs; waits for it. */
  stop(): Promise<void>;
}

/**
 * Starts the term's ResourceManager and Dispatcher, publishes them, and recovers the unfinished jobs
 * of the ExecutionPlanStore (each from its latest checkpoint).
 */
export async function startLeaderComponents(term: LeaseHolder, s: ComponentServices): Promise<LeaderComponents> {
  const { nc, subjects, log, publisher } = s;
  const rmLeader = LeaderPublisher.info(term.id);
  const dispLeader: LeaderInfo = { ...LeaderPublisher.info(term.id), ...(s.webUrl ? { web: s.webUrl } : {}) };
  const rm = new ResourceManager(nc, subjects, rmLeader, log, s.heartbeatTimeoutMs ? { heartbeatTimeoutMs: s.heartbeatTimeoutMs } : {});
  rm.start();
  const rmGateway = new Gateway(nc, subjects.resourceManager, { token: rmLeader.sessionId });
  const strip = ({ sessionId: _s, ...rest }: LeaderInfo) => rest;
  const dispatcher = new Dispatcher(
    nc,
    subjects,
    dispLeader,
    {
      executionPlans: s.plans,
      jobResults: s.results,
      isLeader: s.isLeader,
      ...(s.bundles ? { bundles: s.bundles } : {}),
      createJobMaster: async (graph) => {
        // The lease may have lapsed since the grant (a recovery takes seconds): a former leader's
        // JobMaster would read and deploy under a term that is over.
        if (!s.isLeader()) throw new EddyError(ErrorCode.NotLeader, `job ${graph.jobId} not started: this JobManager no longer leads`);
        const jm = new JobMaster(nc, subjects, graph, { gateway: () => rmGateway }, log, {
          ...(s.slotRequestTimeoutMs ? { slotRequestTimeoutMs: s.slotRequestTimeoutMs } : {}),
          ...s.scheduling,
          isLeader: s.isLeader,
          taskExecutorHost: async (id) => (await rm.taskExecutors()).find((t) => t.id === id)?.host,
        });
        // The JobMaster's leader info (its session id is its fencing token) for TaskExecutors and tools.
        const info: LeaderInfo = { ...LeaderPublisher.info(term.id), sessionId: jm.token };
        // Published while it starts: nothing on the way to RUNNING reads it (TaskExecutors get the
        // session with their slot requests), so a submission does not wait for this KV write.
        const published = publisher.publish(jobMasterLeaderKey(graph.jobId), info);
        const started = jm.start();
        try {
          await Promise.all([published, started]);
        } catch (err) {
          await started.catch(() => undefined); // its failure, if any, is the one thrown below or already is err
          await jm.stop().catch((e: unknown) => log.debug({ err: e, jobId: graph.jobId }, "stopping a JobMaster that failed to start failed"));
          throw err;
        }
        void jm.resultFuture
          .then(() => publisher.withdraw(jobMasterLeaderKey(graph.jobId), info))
          .catch((err: unknown) => log.debug({ err, jobId: graph.jobId }, "withdrawing the JobMaster's leader info failed"));
        return jm;
      },
      cleanupJob: async (jobId) => {
        await releaseBlockingPartitions(nc, subjects, jobId);
        const storage = await CheckpointStorage.open(nc, subjects);
        await (await CompletedCheckpointStore.open(nc, subjects, jobId, { logger: log })).shutdown(true, storage);
      },
      sweepOrphans: (known) => sweepBlockingStreams(nc, subjects, known, log).then(() => undefined),
      sweepEndedJobs: (ended) => sweepCheckpointKeys(nc, subjects, ended, log).then(() => undefined),
      ...(s.sweepIntervalMs ? { sweepIntervalMs: s.sweepIntervalMs } : {}),
      disposeSavepoint: async (id) => {
        const storage = await CheckpointStorage.open(nc, subjects);
        await (await SavepointStore.open(nc, subjects)).dispose(id, storage);
      },
      clusterInfo: async () => ({
        leaders: { dispatcher: strip(dispLeader), resourceManager: strip(rmLeader) },
        taskExecutors: await rm.taskExecutors(),
        web: s.webUrl ?? null,
      }),
    },
    log,
  );
  // The ResourceManager is published first: TaskExecutors re-register with it at once, while the
  // Dispatcher recovers the jobs; the Dispatcher serves once they are all known (Flink bootstraps
  // its Dispatcher with the recovered jobs), so no client is told a recovering job does not exist.
  const guards: PublishedLeaderGuard[] = [];
  const guard = (component: "resourcemanager" | "dispatcher", info: LeaderInfo) =>
    guards.push(PublishedLeaderGuard.start(nc, subjects.bucket("leaders"), publisher, component, info, s.isLeader, log));
  try {
    await publisher.publish("resourcemanager", rmLeader);
    guard("resourcemanager", rmLeader);
    await dispatcher.recoverJobs();
    await publisher.publish("dispatcher", dispLeader);
    guard("dispatcher", dispLeader);
    dispatcher.start();
    await nc.flush();
  } catch (err) {
    for (const g of guards) g.stop();
    // Nothing of a term that did not start may go on acting.
    dispatcher.fenceOff();
    rm.fenceOff();
    await dispatcher.stop().catch((e: unknown) => log.warn({ err: e }, "stopping the Dispatcher of a failed start failed"));
    await rm.stop().catch((e: unknown) => log.warn({ err: e }, "stopping the ResourceManager of a failed start failed"));
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    dispatcher,
    resourceManager: rm,
    stop() {
      return (stopping ??= (async () => {
        for (const g of guards) g.stop();
        dispatcher.fenceOff();
        rm.fenceOff();
        await dispatcher.stop();
        await rm.stop();
        if (s.isLeader()) {
          await publisher.withdraw("dispatcher", dispLeader).catch((err: unknown) => log.debug({ err }, "withdrawing the Dispatcher's leader info failed"));
          await publisher
            .withdraw("resourcemanager", rmLeader)
            .catch((err: unknown) => log.debug({ err }, "withdrawing the ResourceManager's leader info failed"));
        }
      })());
    },
  };
}
