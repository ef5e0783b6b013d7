import type { AssignedSlot, Execution } from "../executiongraph/execution.js";

/** A slot the JobMaster holds, and the executions sharing it. */
export interface PooledSlot {
  readonly slot: AssignedSlot;
  readonly users: Set<Execution>;
  /** When the slot last became free (ms since the epoch). */
  idleSince: number;
}

/**
 * The slots offered to one job (Flink's DeclarativeSlotPool): free ones wait for the next region
 * to be scheduled; a slot is free again once every execution sharing it is final; slots idle for
 * longer than the idle timeout go back to their TaskExecutor.
 */
export class SlotPool {
  private readonly slots = new Map<string, PooledSlot>();
  private readonly freeSet = new Set<PooledSlot>();

  add(slot: AssignedSlot, now = Date.now()): void {
    if (this.slots.has(slot.allocationId)) return;
    const s: PooledSlot = { slot, users: new Set(), idleSince: now };
    this.slots.set(slot.allocationId, s);
    this.freeSet.add(s);
  }

  get size(): number {
    return this.slots.size;
  }

  /** The first `n` free slots (they stay free until occupied). */
  takeFree(n: number): PooledSlot[] {
    const out: PooledSlot[] = [];
    for (const s of this.freeSet) {
      if (out.length === n) break;
      out.push(s);
    }
    return out;
  }

  get freeCount(): number {
    return this.freeSet.size;
  }

  get inUse(): number {
    return this.slots.size - this.freeSet.size;
  }

  occupy(s: PooledSlot, e: Execution): void {
    s.users.add(e);
    this.freeSet.delete(s);
    e.slot = s.slot;
  }

  /** Frees `e`'s share of its slot; the slot is idle once nobody uses it. */
  vacate(e: Execution, now = Date.now()): void {
    const s = e.slot && this.slots.get(e.slot.allocationId);
    if (!s?.users.delete(e)) return;
    if (s.users.size === 0) {
      s.idleSince = now;
      this.freeSet.add(s);
    }
  }

  /** Forgets every slot of a lost TaskExecutor. */
  removeTaskExecutor(teId: string): PooledSlot[] {
    const lost = [...this.slots.values()].filter((s) => s.slot.taskExecutorId === teId);
    for (const s of lost) {
      this.slots.delete(s.slot.allocationId);
      this.freeSet.delete(s);
    }
    return lost;
  }

  /** Removes and returns free slots idle since before `now - idleMs`, keeping at least `keep` free ones. */
  takeIdle(idleMs: number, keep: number, now = Date.now()): AssignedSlot[] {
    const free = [...this.freeSet].sort((a, b) => a.idleSince - b.idleSince);
    const out: AssignedSlot[] = [];
    for (const s of free.slice(0, Math.max(0, free.length - keep))) {
      if (now - s.idleSince < idleMs) continue;
      this.slots.delete(s.slot.allocationId);
      this.freeSet.delete(s);
      out.push(s.slot);
    }
    return out;
  }

  /** Removes and returns every slot. */
  takeAll(): AssignedSlot[] {
    const all = [...this.slots.values()].map((s) => s.slot);
    this.slots.clear();
    this.freeSet.clear();
    return all;
  }
}
