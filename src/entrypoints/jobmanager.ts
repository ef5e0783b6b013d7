/**
 * Starts a JobManager process: it contends for the JobManager lease and, while it holds it, runs the
 * Dispatcher, the ResourceManager and a JobMaster per job ({@link startLeaderComponents}). Several
 * JobManagers may run against one NATS: one leads, the others stand by and take over (recovering
 * every unfinished job from its latest checkpoint) when the leader's lease lapses.
 */
import { newId } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import { connectNats, type NatsAuth } from "../rpc/nats.js";
import { Subjects } from "../rpc/subjects.js";
import { ExecutionPlanStore } from "../ha/execution-plan-store.js";
import { JobResultStore } from "../ha/job-result-store.js";
import { LeaderPublisher } from "../ha/leader-retrieval.js";
import { LeaseLeaderElection, type LeaseHolder } from "../ha/lease-leader-election.js";
import type { SchedulerFactoryOptions } from "../../actors/jobmaster/scheduler-factory.js";
import type { LeaderComponents } from "./dispatcher-resource-manager-component.js";
import { BundleCache, BundleStore } from "../blob/index.js";
import { CheckpointStorage } from "../checkpoint/storage.js";
import { ApplicationRunner } from "../usercode/index.js";
import { createMetricStore } from "../metrics/index.js";
import { startWebServer, type WebServer } from "../web/index.js";
import { packageVersion } from "../cluster/paths.js";

export interface JobManagerOptions {
  natsUrl: string;
  /** Credentials of the jobmanager role (absent: an open server). */
  natsAuth?: NatsAuth;
  /** How long the first connection waits for a server not reachable yet, ms (default 0). */
  natsWaitMs?: number;
  prefix: string;
  log: Logger;
  /** ResourceManager heartbeat timeout for TaskExecutors, ms. */
  heartbeatTimeoutMs?: number;
  /** How long a job waits for slots, ms. */
  slotRequestTimeoutMs?: number;
  /** How often the leader sweeps the checkpoint keys of ended jobs, ms (EDDY_SWEEP_INTERVAL_MS). */
  sweepIntervalMs?: number;
  /** The cluster's scheduler, reactive mode and adaptive scheduler timeouts (`--scheduler`, `--reactive`). */
  scheduling?: SchedulerFactoryOptions;
  /** Lease duration, ms (default EDDY_LEASE_MS, else 15 s with replicated buckets and 6 s without; an existing lease bucket's max_age wins). */
  leaseMs?: number;
  /** The HTTP server (REST, dashboard, /metrics); absent: none. `token`: what writes need (absent: open mode, docs/rest.md#security). */
  web?: { host: string; port: number; freePortIfTaken?: boolean; token?: string };
}

/** A running JobManager. */
export interface JobManagerHandle {
  /** This process's id (the lease holder id while it leads). */
  readonly id: string;
  /** Resolves once the process contends for leadership (leading or standing by). */
  readonly ready: Promise<void>;
  /** Resolves when this process first leads and serves. */
  readonly leading: Promise<void>;
  /** True while it leads. */
  isLeader(): boolean;
  /** The web server's address, when it serves one. */
  readonly webUrl: string | undefined;
  stop(): Promise<void>;
}

/** The JobManager lease key in the `<prefix>_leases` bucket. */
export const JOBMANAGER_LEASE = "jobmanager";

/** Connects to NATS, opens the HA stores and contends for leadership. */
export async function startJobManager(opts: JobManagerOptions): Promise<JobManagerHandle> {
  const log = opts.log;
  // The leader's components (Dispatcher, JobMaster, scheduler, job graph validation) are the bulk of
  // the code: loaded while the connection and the HA stores are made, not before.
  const components$ = import("./dispatcher-resource-manager-component.js");
  components$.catch(() => undefined); // awaited (and reported) at the first grant
  const nc = await connectNats(opts.natsUrl, "eddy-jobmanager", { log, auth: opts.natsAuth, ...(opts.natsWaitMs ? { waitMs: opts.natsWaitMs } : {}) });
  const subjects = new Subjects(opts.prefix);
  const id = `jm_${newId().slice(0, 12)}`;
  const [plans, results, publisher, election] = await Promise.all([
    ExecutionPlanStore.open(nc, subjects.bucket("jobgraphs")),
    JobResultStore.open(nc, subjects.bucket("jobresults")),
    LeaderPublisher.open(nc, subjects.bucket("leaders")),
    LeaseLeaderElection.open(nc, subjects.bucket("leases"), JOBMANAGER_LEASE, id, log, opts.leaseMs ? { leaseMs: opts.leaseMs } : {}),
  ]);
  // Job bundles (one cache and application runner per process, across leadership terms): checked on
  // submission; application mode fetches them and runs main in a thread.
  let bundleStore: Promise<BundleStore> | undefined;
  const openBundles = () =>
    (bundleStore ??= BundleStore.open(nc, subjects).catch((err: unknown) => {
      bundleStore = undefined;
      throw err;
    }));
  const appTimeoutMs = Number(process.env.EDDY_APPLICATION_TIMEOUT_MS) || undefined;
  const applications = new ApplicationRunner(
    new BundleCache(openBundles, { name: `eddy-app-bundles-${id}-`, log }),
    appTimeoutMs ? { timeoutMs: appTimeoutMs } : {},
  );
  // Clients upload into the bundle store and workers write state, but neither role may create a
  // bucket (docs/security.md): both are made at start, in the background (a failure is retried by
  // the first use).
  openBundles().catch((err: unknown) => log.warn({ err }, "creating the bundle store failed; retried when a job needs it"));
  CheckpointStorage.open(nc, subjects).catch((err: unknown) => log.warn({ err }, "creating the state store failed; retried when a job needs it"));
  const bundles = {
    check: async (ref: { id: string; size: number }) => (await openBundles()).check(ref),
    buildApplication: (req: Parameters<ApplicationRunner["build"]>[0]) => applications.build(req),
  };
  // Every JobManager (leader or standby) keeps the metrics and serves the web API: a standby answers the same.
  const metrics = await createMetricStore(nc, subjects, log);
  let web: WebServer | undefined;
  let components: LeaderComponents | undefined;
  try {
    if (opts.web)
      web = await startWebServer({
        ...opts.web,
        nc,
        subjects,
        metrics: metrics.query,
        log,
        version: packageVersion(),
        localDispatcher: () => components?.dispatcher,
      });
  } catch (err) {
    await metrics.close();
    await nc.close().catch(() => undefined); // the start failed already; the connection goes with it
    throw err;
  }
  let resolveLeading!: () => void;
  const leading = new Promise<void>((r) => (resolveLeading = r));
  election.start({
    grant: async (term: LeaseHolder) => {
      log.info({ id, sessionId: term.sessionId }, "JobManager leading");
      const { startLeaderComponents } = await components$;
      components = await startLeaderComponents(term, {
        nc,
        subjects,
        log,
        plans,
        results,
        publisher,
        bundles,
        isLeader: () => election.leading,
        ...(web ? { webUrl: web.url } : {}),
        ...(opts.heartbeatTimeoutMs ? { heartbeatTimeoutMs: opts.heartbeatTimeoutMs } : {}),
        ...(opts.slotRequestTimeoutMs ? { slotRequestTimeoutMs: opts.slotRequestTimeoutMs } : {}),
        ...(opts.sweepIntervalMs ? { sweepIntervalMs: opts.sweepIntervalMs } : {}),
        ...(opts.scheduling ? { scheduling: opts.scheduling } : {}),
      });
      resolveLeading();
    },
    revoke: async (reason: string) => {
      const c = components;
      components = undefined;
      if (!c) return;
      log.warn({ id, reason }, "JobManager no longer leads: its components stop");
      await c.stop();
    },
  });
  log.info({ id, nats: opts.natsUrl, leaseMs: election.timing.leaseMs }, "JobManager started: contending for leadership");
  let stopped = false;
  return {
    id,
    ready: Promise.resolve(),
    leading,
    isLeader: () => election.leading,
    webUrl: web?.url,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Stops the components (suspending the jobs) and releases the lease for a standby.
      await election.stop();
      await web?.close();
      await metrics.close();
      await applications.close();
      await nc.drain().catch((err: unknown) => log.debug({ err }, "draining the NATS connection failed"));
      log.info("JobManager stopped");
    },
  };
}
