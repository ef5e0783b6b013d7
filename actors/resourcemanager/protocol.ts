/** Messages the ResourceManager accepts, each written once as a checker with its inferred type. */
import { s, type Infer } from "../../src/schema/index.js";

const teId = s.str({ pattern: /^[A-Za-z0-9_-]{1,64}$/ });

/** A slot as a TaskExecutor reports it. */
export const SlotStatus = s.object({
  index: s.int({ min: 0, max: 4096 }),
  allocationId: s.optional(s.id),
  jobId: s.optional(s.id),
});
export type SlotStatus = Infer<typeof SlotStatus>;

export const RegisterTaskExecutor = s.object({
  taskExecutorId: teId,
  pid: s.int({ min: 0 }),
  host: s.str({ max: 255 }),
  slots: s.array(SlotStatus, 4096),
});
export type RegisterTaskExecutor = Infer<typeof RegisterTaskExecutor>;

export const Heartbeat = s.object({ taskExecutorId: teId, slots: s.array(SlotStatus, 4096) });
export type Heartbeat = Infer<typeof Heartbeat>;

export const DisconnectTaskExecutor = s.object({ taskExecutorId: teId, reason: s.str({ max: 1000 }) });
export type DisconnectTaskExecutor = Infer<typeof DisconnectTaskExecutor>;

/** A JobMaster's declaration of how many slots its job needs now (Flink's ResourceRequirements). */
export const DeclareResources = s.object({
  jobId: s.id,
  jobMasterToken: s.str({ max: 64 }),
  slots: s.int({ min: 0, max: 1_000_000 }),
});
export type DeclareResources = Infer<typeof DeclareResources>;

export const SlotFreed = s.object({ taskExecutorId: teId, allocationId: s.id });
export type SlotFreed = Infer<typeof SlotFreed>;

/** The RM's view of one TaskExecutor, as listed by `eddy info`. */
export type { TaskExecutorView as TaskExecutorInfo } from "../../schemas/dispatcher-api.js";

/** What the RM asks a TaskExecutor to do with a slot (TaskExecutorGateway.requestSlot). */
export interface SlotRequest {
  slotIndex: number;
  allocationId: string;
  jobId: string;
  jobMasterToken: string;
}
