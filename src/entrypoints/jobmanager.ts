/** Starts a JobManager (Dispatcher, ResourceManager, JobMasters) in this process. */
import type { Logger } from "../core/logger.js";

export interface JobManagerOptions {
  natsUrl: string;
  prefix: string;
  log: Logger;
}

/** A running JobManager. */
export interface JobManagerHandle {
  /** Resolves once the Dispatcher and ResourceManager lead and serve. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

export async function startJobManager(_opts: JobManagerOptions): Promise<JobManagerHandle> {
  throw new Error("not yet implemented");
}
