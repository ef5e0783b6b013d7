/** Starts a TaskExecutor (one worker node with S slots) in this process. */
import type { Logger } from "../core/logger.js";

export interface TaskExecutorOptions {
  natsUrl: string;
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

export async function startTaskExecutor(_opts: TaskExecutorOptions): Promise<TaskExecutorHandle> {
  throw new Error("not yet implemented");
}
