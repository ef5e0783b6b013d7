import type { PipelinedRegion } from "./failover/pipelined-region.js";
import { slotSharingKeys } from "./slot-sharing.js";

/** Regions scheduled and waiting for their slots, first come first served, with their total slot need. */
export class RegionQueue {
  private items: PipelinedRegion[] = [];
  private head = 0;
  /** Slots the waiting regions need together. */
  slots = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(r: PipelinedRegion): void {
    this.items.push(r);
    this.slots += slotSharingKeys(r).size;
  }

  peek(): PipelinedRegion | undefined {
    return this.items[this.head];
  }

  shift(): PipelinedRegion | undefined {
    const r = this.items[this.head];
    if (!r) return undefined;
    this.items[this.head++] = undefined as unknown as PipelinedRegion;
    this.slots -= slotSharingKeys(r).size;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return r;
  }

  /** Removes every waiting region for which `drop` holds. */
  removeWhere(drop: (r: PipelinedRegion) => boolean): void {
    const keep = this.items.slice(this.head).filter((r) => !drop(r));
    this.items = keep;
    this.head = 0;
    this.slots = keep.reduce((n, r) => n + slotSharingKeys(r).size, 0);
  }

  /** Replaces every waiting region by `to(region)` (dropping those it maps to undefined). */
  remap(to: (r: PipelinedRegion) => PipelinedRegion | undefined): void {
    const next: PipelinedRegion[] = [];
    for (const r of this.items.slice(this.head)) {
      const m = to(r);
      if (m) next.push(m);
    }
    this.items = next;
    this.head = 0;
    this.slots = next.reduce((n, r) => n + slotSharingKeys(r).size, 0);
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.slots = 0;
  }
}
