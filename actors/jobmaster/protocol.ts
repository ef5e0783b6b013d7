/** Messages the JobMaster accepts, each written once as a checker with its inferred type. */
import { s, type Infer } from "../../src/schema/index.js";
import { EXECUTION_STATES } from "../../src/executiongraph/execution-state.js";
import { DECLINE_REASONS } from "../../src/checkpoint/types.js";

const teId = s.str({ pattern: /^[A-Za-z0-9_-]{1,64}$/ });

export const OfferSlots = s.object({
  taskExecutorId: teId,
  slots: s.array(s.object({ allocationId: s.id, slotIndex: s.int({ min: 0, max: 4096 }) }), 4096),
});
export type OfferSlots = Infer<typeof OfferSlots>;

export const Failure = s.object({
  code: s.errorCode,
  name: s.str({ max: 200 }),
  message: s.str({ max: 100_000 }),
  stack: s.optional(s.str({ max: 100_000 })),
});

export const UpdateTaskExecutionState = s.object({
  attemptId: s.id,
  state: s.oneOf(EXECUTION_STATES),
  failure: s.optional(Failure),
  accumulators: s.optional(s.record(s.num, 1000)),
});
export type UpdateTaskExecutionState = Infer<typeof UpdateTaskExecutionState>;

export const DisconnectTaskManager = s.object({ taskExecutorId: teId, reason: s.str({ max: 1000 }) });
export type DisconnectTaskManager = Infer<typeof DisconnectTaskManager>;

export const AcknowledgeCheckpoint = s.object({
  attemptId: s.id,
  checkpointId: s.int({ min: 1 }),
  /** SubtaskStateSnapshot: per operator id, its state handles (object names and sizes). */
  snapshot: s.object({ operators: s.record(s.any, 1000) }),
});
export type AcknowledgeCheckpoint = Infer<typeof AcknowledgeCheckpoint>;

/**
 * A task's checkpointing notice (FLIP-147): `taskEndOfInput` (it waits for its final checkpoint) or
 * `taskFinished` (it acknowledged every checkpoint it took and finishes).
 */
export const TaskNotice = s.object({ attemptId: s.id });
export type TaskNotice = Infer<typeof TaskNotice>;

export const DeclineCheckpoint = s.object({
  attemptId: s.id,
  checkpointId: s.int({ min: 1 }),
  reason: s.str({ max: 10_000 }),
  /** Absent: CHECKPOINT_DECLINED (counts toward the tolerable checkpoint failures). */
  failureReason: s.optional(s.oneOf(DECLINE_REASONS)),
});
export type DeclineCheckpoint = Infer<typeof DeclineCheckpoint>;

/** A task's connection was re-established: every pending checkpoint still waiting for it is declined. */
export const DeclinePendingCheckpoints = s.object({ attemptId: s.id, reason: s.str({ max: 10_000 }) });
export type DeclinePendingCheckpoints = Infer<typeof DeclinePendingCheckpoints>;

/** `eddy status --json` / `requestJob`: defined with the public API. */
export type { JobDetails } from "../../schemas/dispatcher-api.js";
