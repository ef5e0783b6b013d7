/** Starts a JobManager (Dispatcher, ResourceManager, a JobMaster per job) in this process. */
import { newId } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import { connectNats } from "../rpc/nats.js";
import { Subjects } from "../rpc/subjects.js";
import { Gateway } from "../rpc/gateway.js";
import { ExecutionPlanStore } from "../ha/execution-plan-store.js";
import { JobResultStore } from "../ha/job-result-store.js";
import { StandaloneLeaderElection } from "../ha/leader-election.js";
import { Dispatcher } from "../../actors/dispatcher/dispatcher.js";
import { ResourceManager } from "../../actors/resourcemanager/resource-manager.js";
import { JobMaster } from "../../actors/jobmaster/job-master.js";
import { CheckpointStorage, SavepointStore } from "../checkpoint/index.js";

export interface JobManagerOptions {
  natsUrl: string;
  prefix: string;
  log: Logger;
  /** ResourceManager heartbeat timeout for TaskExecutors, ms. */
  heartbeatTimeoutMs?: number;
  /** How long a job waits for slots, ms. */
  slotRequestTimeoutMs?: number;
}

/** A running JobManager. */
export interface JobManagerHandle {
  /** Resolves once the Dispatcher and ResourceManager lead and serve. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** Connects to NATS, wins leadership (standalone) and starts the Dispatcher and ResourceManager. */
export async function startJobManager(opts: JobManagerOptions): Promise<JobManagerHandle> {
  const log = opts.log;
  const nc = await connectNats(opts.natsUrl, "eddy-jobmanager");
  const subjects = new Subjects(opts.prefix);
  const id = `jm_${newId().slice(0, 12)}`;
  const leaders = subjects.bucket("leaders");
  const [plans, results, rmElection, dispElection] = await Promise.all([
    ExecutionPlanStore.open(nc, subjects.bucket("jobgraphs")),
    JobResultStore.open(nc, subjects.bucket("jobresults")),
    StandaloneLeaderElection.open(nc, leaders, "resourcemanager"),
    StandaloneLeaderElection.open(nc, leaders, "dispatcher"),
  ]);
  const rmLeader = await rmElection.start(id);
  const rm = new ResourceManager(nc, subjects, rmLeader, log, opts.heartbeatTimeoutMs ? { heartbeatTimeoutMs: opts.heartbeatTimeoutMs } : {});
  rm.start();
  const rmGateway = new Gateway(nc, subjects.resourceManager, { token: rmLeader.sessionId });
  const dispLeader = await dispElection.start(id);
  const strip = ({ sessionId: _s, ...rest }: typeof rmLeader) => rest;
  const dispatcher = new Dispatcher(
    nc,
    subjects,
    dispLeader,
    {
      executionPlans: plans,
      jobResults: results,
      createJobMaster: async (graph) => {
        const jm = new JobMaster(nc, subjects, graph, { gateway: () => rmGateway }, log, opts.slotRequestTimeoutMs ? { slotRequestTimeoutMs: opts.slotRequestTimeoutMs } : {});
        await jm.start();
        return jm;
      },
      disposeSavepoint: async (id) => {
        const storage = await CheckpointStorage.open(nc, subjects);
        await (await SavepointStore.open(nc, subjects)).dispose(id, storage);
      },
      clusterInfo: async () => ({
        leaders: { dispatcher: strip(dispLeader), resourceManager: strip(rmLeader) },
        taskExecutors: await rm.taskExecutors(),
      }),
    },
    log,
  );
  dispatcher.start();
  await nc.flush();
  log.info({ id, nats: opts.natsUrl }, "JobManager ready");
  let stopped = false;
  return {
    ready: Promise.resolve(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await dispatcher.stop();
      await rm.stop();
      await dispElection.stop(dispLeader).catch(() => undefined);
      await rmElection.stop(rmLeader).catch(() => undefined);
      await nc.drain().catch(() => undefined);
      log.info("JobManager stopped");
    },
  };
}
