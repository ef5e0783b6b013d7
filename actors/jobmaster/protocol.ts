/** Messages the JobMaster accepts, each written once as a checker with its inferred type. */
import { s, type Infer } from "../../src/schema/index.js";
import { EXECUTION_STATES } from "../../src/executiongraph/execution-state.js";

const teId = s.str({ pattern: /^[A-Za-z0-9_-]{1,64}$/ });

export const OfferSlots = s.object({
  taskExecutorId: teId,
  slots: s.array(s.object({ allocationId: s.id, slotIndex: s.int({ min: 0, max: 4096 }) }), 4096),
});
export type OfferSlots = Infer<typeof OfferSlots>;

export const Failure = s.object({
  code: s.str({ max: 100 }),
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

/** `eddy status --json` / `requestJob`: the job with its vertices and subtasks. */
export interface JobDetails {
  id: string;
  name: string;
  state: string;
  startTime: number;
  endTime: number | null;
  /** When the job entered each status (ms since the epoch). */
  timestamps: Record<string, number>;
  /** The root cause once the job failed. */
  failure: { code: string; name: string; message: string; stack?: string } | null;
  vertices: Array<{
    id: string;
    name: string;
    parallelism: number;
    maxParallelism: number;
    state: string;
    /** `timestamps`: when the current attempt entered each state (ms since the epoch), as Flink's REST API. */
    subtasks: Array<{ index: number; state: string; attempt: number; taskExecutor: string | null; timestamps: Record<string, number> }>;
  }>;
  checkpoints: { completed: number; failed: number; latest: { id: number; durationMs: number; bytes: number } | null };
}
