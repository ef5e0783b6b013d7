/** Messages the TaskExecutor accepts, each written once as a checker with its inferred type. */
import { s, type Infer } from "../../src/schema/index.js";
import type { TaskDeploymentDescriptor } from "../../src/deployment/descriptors.js";
import { USER_FUNCTION_REF } from "../../src/core/ids.js";

export const RequestSlot = s.object({
  slotIndex: s.int({ min: 0, max: 4096 }),
  allocationId: s.id,
  jobId: s.id,
  jobMasterToken: s.str({ max: 64 }),
});
export type RequestSlot = Infer<typeof RequestSlot>;

export const AllocationRequest = s.object({ allocationId: s.id });

/** The ResourceManager no longer knows this TaskExecutor (it declared it lost): Flink's disconnectResourceManager. */
export const DisconnectResourceManager = s.object({ reason: s.str({ max: 1000 }) });
export type DisconnectResourceManager = Infer<typeof DisconnectResourceManager>;
export const AttemptRequest = s.object({ attemptId: s.id });

const key = s.optional((v: unknown, p: string) => (typeof v === "number" ? s.int({ min: 0 })(v, p) : s.str({ max: 256 })(v, p)));
const location = s.object({ taskExecutorId: s.str({ pattern: /^[A-Za-z0-9_-]{1,64}$/ }), slotIndex: s.int({ min: 0, max: 4096 }) });

/** The TaskDeploymentDescriptor as checked on arrival. */
export const SubmitTask = s.object({
  jobId: s.id,
  jobName: s.str({ max: 1000 }),
  vertexId: s.str({ max: 64 }),
  vertexName: s.str({ max: 1000 }),
  attemptId: s.id,
  attemptNumber: s.int({ min: 0 }),
  subtaskIndex: s.int({ min: 0 }),
  parallelism: s.int({ min: 1, max: 32768 }),
  maxParallelism: s.int({ min: 1, max: 32768 }),
  invokable: s.str({ max: 256 }),
  config: s.record(s.any, 1000),
  allocationId: s.id,
  bufferTimeoutMs: s.int({ min: 0, max: 3_600_000 }),
  bufferRecords: s.int({ min: 1, max: 1_000_000 }),
  outputs: s.array(
    s.object({
      resultId: s.str({ max: 64 }),
      partitionIndex: s.int({ min: 0 }),
      numSubpartitions: s.int({ min: 1, max: 32768 }),
      partitioner: s.oneOf(["forward", "rescale", "rebalance", "hash", "broadcast"] as const),
      key,
      keySelector: s.optional(s.str({ pattern: USER_FUNCTION_REF })),
      output: s.optional(s.int({ min: 1, max: 64 })),
      maxParallelism: s.int({ min: 1, max: 32768 }),
      consumerParallelism: s.int({ min: 1, max: 32768 }),
      partitionType: s.oneOf(["PIPELINED", "BLOCKING"] as const),
    }),
    1000,
  ),
  inputs: s.array(
    s.object({
      resultId: s.str({ max: 64 }),
      partitionType: s.oneOf(["PIPELINED", "BLOCKING"] as const),
      producers: s.array(s.object({ producerAttemptId: s.id, partitionIndex: s.int({ min: 0 }), location }), 32768),
      subpartitions: (v: unknown, p: string) => (typeof v === "number" ? s.int({ min: 0 })(v, p) : s.array(s.int({ min: 0 }), 32768)(v, p)),
      subpartitionRange: s.optional(s.array(s.int({ min: 0, max: 32768 }), 2)),
    }),
    1000,
  ),
  checkpointing: s.optional(s.bool),
  restore: s.optional(
    s.object({
      checkpointId: s.int({ min: 1 }),
      // Per operator id: state handles (object names, sizes, key-group ranges), read back from the Object Store.
      operators: s.record(s.object({ keyed: s.array(s.any, 32768), operator: s.array(s.any, 32768) }), 1000),
      // The subtask had finished in that checkpoint (FLIP-147): it finishes at once instead of running again.
      finished: s.optional(s.bool),
    }),
  ),
  userCode: s.optional(
    s.object({
      bundle: s.object({ id: s.str({ pattern: /^[0-9a-f]{64}$/ }), size: s.int({ min: 1 }) }),
      args: s.array(s.str({ max: 4096 }), 1000),
      parallelism: s.optional(s.int({ min: 1, max: 32768 })),
    }),
  ),
});
export type SubmitTask = Infer<typeof SubmitTask> & TaskDeploymentDescriptor;
