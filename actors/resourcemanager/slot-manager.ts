import { newId } from "../../src/core/ids.js";
import type { SlotRequest, SlotStatus, TaskExecutorInfo } from "./protocol.js";
import type { ClusterTotals } from "./cluster-metrics.js";

/** A registered TaskExecutor and its slots, as the ResourceManager tracks them. */
export interface TaskExecutorRecord {
  id: string;
  pid: number;
  host: string;
  lastHeartbeat: number;
  slots: Array<{ index: number; allocationId?: string; jobId?: string; pending?: boolean }>;
}

/** A job's declared need (Flink's ResourceRequirements) and the token of its JobMaster. */
interface Requirement {
  jobId: string;
  jobMasterToken: string;
  slots: number;
}

/**
 * Matches declared slot requirements with registered TaskExecutor slots (Flink's
 * DeclarativeSlotManager). Pure bookkeeping: the ResourceManager performs the returned requests.
 * Allocation spreads slots evenly over TaskExecutors (least used first).
 */
export class SlotManager {
  readonly taskExecutors = new Map<string, TaskExecutorRecord>();
  private readonly requirements = new Map<string, Requirement>();

  register(rec: Omit<TaskExecutorRecord, "lastHeartbeat">): void {
    this.taskExecutors.set(rec.id, { ...rec, lastHeartbeat: Date.now() });
  }

  /** Applies a heartbeat's slot report; pending allocations the TE does not know yet are kept. */
  report(teId: string, slots: SlotStatus[]): boolean {
    const te = this.taskExecutors.get(teId);
    if (!te) return false;
    te.lastHeartbeat = Date.now();
    for (const r of slots) {
      const s = te.slots[r.index];
      if (!s) continue;
      if (s.pending && !r.allocationId) continue;
      s.pending = false;
      if (r.allocationId) {
        s.allocationId = r.allocationId;
        if (r.jobId) s.jobId = r.jobId;
      } else {
        delete s.allocationId;
        delete s.jobId;
      }
    }
    return true;
  }

  /** Removes a TaskExecutor; returns the jobs that had slots on it. */
  unregister(teId: string): string[] {
    const te = this.taskExecutors.get(teId);
    this.taskExecutors.delete(teId);
    return [...new Set((te?.slots ?? []).map((s) => s.jobId).filter((j): j is string => !!j))];
  }

  freeSlot(teId: string, allocationId: string): void {
    const s = this.taskExecutors.get(teId)?.slots.find((x) => x.allocationId === allocationId);
    if (s) {
      delete s.allocationId;
      delete s.jobId;
      s.pending = false;
    }
  }

  /** Records a job's requirement (0 removes it). */
  declare(jobId: string, jobMasterToken: string, slots: number): void {
    if (slots === 0) this.requirements.delete(jobId);
    else this.requirements.set(jobId, { jobId, jobMasterToken, slots });
  }

  /** The session token of the JobMaster that declared `jobId`'s requirement. */
  jobMasterToken(jobId: string): string | undefined {
    return this.requirements.get(jobId)?.jobMasterToken;
  }

  /** Slots held (or being allocated) by a job. */
  allocatedTo(jobId: string): number {
    let n = 0;
    for (const te of this.taskExecutors.values()) for (const s of te.slots) if (s.jobId === jobId) n++;
    return n;
  }

  /** Allocates free slots to unmet requirements; returns the requests to send, marked pending. */
  allocate(): Array<{ taskExecutorId: string; request: SlotRequest }> {
    const out: Array<{ taskExecutorId: string; request: SlotRequest }> = [];
    for (const req of this.requirements.values()) {
      let missing = req.slots - this.allocatedTo(req.jobId);
      while (missing > 0) {
        const te = this.leastUsedWithFreeSlot();
        if (!te) break;
        const slot = te.slots.find((s) => !s.allocationId)!;
        slot.allocationId = newId();
        slot.jobId = req.jobId;
        slot.pending = true;
        out.push({
          taskExecutorId: te.id,
          request: { slotIndex: slot.index, allocationId: slot.allocationId, jobId: req.jobId, jobMasterToken: req.jobMasterToken },
        });
        missing--;
      }
    }
    return out;
  }

  /** Taskexecutors whose last heartbeat is older than `timeoutMs`. */
  expired(timeoutMs: number, now = Date.now()): string[] {
    return [...this.taskExecutors.values()].filter((t) => now - t.lastHeartbeat > timeoutMs).map((t) => t.id);
  }

  /** How many TaskExecutors, slots and free slots are registered (the cluster metrics). */
  totals(): ClusterTotals {
    let slots = 0;
    let free = 0;
    for (const te of this.taskExecutors.values()) {
      slots += te.slots.length;
      for (const s of te.slots) if (!s.allocationId) free++;
    }
    return { taskExecutors: this.taskExecutors.size, slots, free };
  }

  info(): TaskExecutorInfo[] {
    return [...this.taskExecutors.values()].map((t) => ({
      id: t.id,
      pid: t.pid,
      host: t.host,
      slots: t.slots.length,
      freeSlots: t.slots.filter((s) => !s.allocationId).length,
    }));
  }

  private leastUsedWithFreeSlot(): TaskExecutorRecord | undefined {
    let best: TaskExecutorRecord | undefined;
    let bestFree = 0;
    for (const te of this.taskExecutors.values()) {
      const free = te.slots.filter((s) => !s.allocationId).length;
      if (free > bestFree) {
        best = te;
        bestFree = free;
      }
    }
    return best;
  }
}
