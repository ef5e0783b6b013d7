/**
 * The messages waiting for an actor of this subtask (StateFun's local feedback queue): first in,
 * first out, so the messages one actor sends another arrive in the order sent. What it holds at a
 * checkpoint is part of the checkpoint (see ActorOperator.snapshotState).
 */
import type { Envelope } from "./types.js";

export class MessageQueue {
  private items: Envelope[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(e: Envelope): void {
    this.items.push(e);
  }

  shift(): Envelope | undefined {
    if (this.head === this.items.length) return undefined;
    const e = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as Envelope;
    // Drop the taken front once it is most of the array: pushes stay amortized O(1).
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return e;
  }

  /** The waiting messages, oldest first (a copy). */
  toArray(): Envelope[] {
    return this.items.slice(this.head);
  }
}
