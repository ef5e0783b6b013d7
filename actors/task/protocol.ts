/**
 * Messages between a TaskExecutor's main thread and its slot worker threads (structured clone,
 * same process), and the Task actor's NATS methods.
 */
import type { FailureInfo, WireError } from "../../src/core/errors.js";
import type { TaskDeploymentDescriptor } from "../../src/deployment/descriptors.js";
import type { ExecutionState } from "../../src/executiongraph/execution-state.js";
import type { TaskEntry } from "../../src/metrics/index.js";
import type { NatsAuth } from "../../src/rpc/nats.js";

/** What a slot worker thread is started with. */
export interface SlotWorkerData {
  natsUrl: string;
  natsAuth?: NatsAuth;
  prefix: string;
  taskExecutorId: string;
  slotIndex: number;
  logLevel: string;
  /** False when metrics are off (EDDY_METRICS=off): the thread counts nothing and posts no metrics. */
  metrics?: boolean;
  /** The TaskExecutor's number of slots (so of slot threads at most). */
  slots?: number;
}

/** Main thread → worker. */
export type ToWorker =
  | { type: "submit"; tdd: TaskDeploymentDescriptor; jobMasterToken: string }
  | { type: "cancel"; attemptId: string }
  | { type: "shutdown" }
  /** The answer to a `fetchBundle`: the verified file's path, or why there is none. */
  | { type: "bundle"; requestId: number; path?: string; error?: WireError };

/** Worker → main thread. */
export type FromWorker =
  | { type: "ready" }
  | { type: "state"; attemptId: string; jobId: string; state: ExecutionState; failure?: FailureInfo; accumulators?: Record<string, number> }
  | { type: "fatal"; message: string }
  /** Once a second: the values of the slot's tasks (and of those that ended since) and the thread's event-loop lag. */
  | { type: "metrics"; lagMs: number; tasks: TaskEntry[] }
  /** Asks the TaskExecutor's BundleCache for a bundle's verified file (answered by a `bundle` message). */
  | { type: "fetchBundle"; requestId: number; bundle: { id: string; size: number } };
