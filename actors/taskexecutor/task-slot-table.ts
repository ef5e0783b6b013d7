import type { SlotStatus } from "../resourcemanager/protocol.js";

/** One slot of a TaskExecutor (Flink's TaskSlot): free, or allocated to a job's JobMaster session. */
export interface TaskSlot {
  index: number;
  allocationId?: string;
  jobId?: string;
  jobMasterToken?: string;
  /** Attempts running in the slot. */
  tasks: Map<string, { jobId: string }>;
}

/** The slots of a TaskExecutor (Flink's TaskSlotTable). */
export class TaskSlotTable {
  readonly slots: TaskSlot[];

  constructor(count: number) {
    this.slots = Array.from({ length: count }, (_, index) => ({ index, tasks: new Map() }));
  }

  byAllocation(allocationId: string): TaskSlot | undefined {
    return this.slots.find((s) => s.allocationId === allocationId);
  }

  /** The slot running `attemptId`. */
  byTask(attemptId: string): TaskSlot | undefined {
    return this.slots.find((s) => s.tasks.has(attemptId));
  }

  allocate(index: number, allocationId: string, jobId: string, jobMasterToken: string): TaskSlot {
    const s = this.slots[index]!;
    s.allocationId = allocationId;
    s.jobId = jobId;
    s.jobMasterToken = jobMasterToken;
    return s;
  }

  free(s: TaskSlot): void {
    delete s.allocationId;
    delete s.jobId;
    delete s.jobMasterToken;
  }

  /** The slot report sent with every heartbeat. */
  report(): SlotStatus[] {
    return this.slots.map((s) => ({ index: s.index, ...(s.allocationId ? { allocationId: s.allocationId, jobId: s.jobId! } : {}) }));
  }

  get freeCount(): number {
    return this.slots.filter((s) => !s.allocationId).length;
  }
}
