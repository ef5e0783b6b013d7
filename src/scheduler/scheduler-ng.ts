import type { FailureInfo } from "../core/errors.js";
import type { TaskDeploymentDescriptor, TaskRestore } from "../deployment/descriptors.js";
import type { AssignedSlot, Execution } from "../executiongraph/execution.js";
import type { ExecutionState } from "../executiongraph/execution-state.js";
import type { JobStatus } from "../executiongraph/job-status.js";

/** A task's state change as a TaskExecutor reports it (Flink's TaskExecutionState). */
export interface TaskExecutionState {
  attemptId: string;
  state: ExecutionState;
  failure?: FailureInfo;
  accumulators?: Record<string, number>;
}

/** What a scheduler needs from its JobMaster: slots, deployment, cancellation, termination. */
export interface SchedulerContext {
  /** Declares the total number of slots the job needs now (0 releases the requirement). */
  declareRequiredSlots(n: number): void;
  /** Sends the task to the slot's TaskExecutor; rejects when the TaskExecutor refuses or is unreachable. */
  deploy(execution: Execution, tdd: TaskDeploymentDescriptor): Promise<void>;
  /** Asks the TaskExecutor to cancel the task. */
  cancelTask(execution: Execution): Promise<void>;
  /** Gives a slot back to its TaskExecutor. */
  releaseSlot(slot: AssignedSlot): void;
  /** The state `execution` starts from (the latest checkpoint's), if any. */
  restoreFor?(execution: Execution): TaskRestore | undefined;
  /** A failover is about to reset tasks: in-flight checkpoints cannot complete. */
  failoverStarted?(): void;
  /** Drops the BLOCKING partitions these superseded attempts produced (they will be produced again). */
  releasePartitions(producerAttemptIds: string[]): void;
  /** The job reached a terminal status. */
  jobTerminated(state: JobStatus): void;
  /** Schedules `fn` after `ms` in the JobMaster's mailbox; returns a cancel function. */
  schedule(ms: number, fn: () => void): () => void;
}

/** The scheduler interface a JobMaster drives (Flink's SchedulerNG). */
export interface SchedulerNG {
  startScheduling(): void;
  /** Slots offered to the job became available. */
  newSlotsAvailable(slots: AssignedSlot[]): void;
  /** A TaskExecutor reported a state change; false when the attempt is unknown. */
  updateTaskExecutionState(update: TaskExecutionState): boolean;
  /** Every task on the TaskExecutor is lost. */
  taskExecutorLost(taskExecutorId: string, cause: FailureInfo): void;
  cancel(): void;
  /** Ends the job here without a global outcome (JobManager shutdown, lost leadership). */
  suspend(): void;
}
