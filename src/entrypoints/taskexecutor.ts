/** Starts a TaskExecutor (one worker node with S slots) in this process. */
import { newId } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import { connectNats, type NatsAuth } from "../rpc/nats.js";
import { Subjects } from "../rpc/subjects.js";
import { LeaderRetrieval } from "../ha/leader-retrieval.js";
import { TaskExecutor } from "../../actors/taskexecutor/task-executor.js";

export interface TaskExecutorOptions {
  natsUrl: string;
  /** Credentials of the worker role (absent: an open server). */
  natsAuth?: NatsAuth;
  /** How long the first connection waits for a server not reachable yet, ms (default 0). */
  natsWaitMs?: number;
  prefix: string;
  slots: number;
  log: Logger;
}

/** A running TaskExecutor. */
export interface TaskExecutorHandle {
  readonly id: string;
  /** Resolves once registered at the ResourceManager. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** Connects to NATS, starts one worker thread per slot and follows the ResourceManager leader. */
export async function startTaskExecutor(opts: TaskExecutorOptions): Promise<TaskExecutorHandle> {
  const nc = await connectNats(opts.natsUrl, "eddy-taskexecutor", {
    log: opts.log,
    auth: opts.natsAuth,
    ...(opts.natsWaitMs ? { waitMs: opts.natsWaitMs } : {}),
  });
  const subjects = new Subjects(opts.prefix);
  const retrieval = await LeaderRetrieval.open(nc, subjects.bucket("leaders"), "resourcemanager");
  const id = `te_${newId().slice(0, 12)}`;
  const te = new TaskExecutor(
    nc,
    subjects,
    retrieval,
    { id, slots: opts.slots, natsUrl: opts.natsUrl, natsAuth: opts.natsAuth, prefix: opts.prefix },
    opts.log,
  );
  await te.start();
  let stopped = false;
  return {
    id,
    ready: te.registration,
    async stop() {
      if (stopped) return;
      stopped = true;
      retrieval.stop();
      await te.stop();
      await nc.drain().catch((err: unknown) => opts.log.debug({ err }, "draining the NATS connection failed"));
      opts.log.info({ id }, "TaskExecutor stopped");
    },
  };
}
