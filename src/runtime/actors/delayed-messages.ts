/**
 * Messages sent with `sendAfter`: held until they are due (processing time), then handed to the
 * queue. They are part of every checkpoint until delivered, so a restore delivers each exactly once;
 * one due while the job was down is delivered at once after the restore.
 */
import type { Envelope } from "./types.js";

/** A message and when it is due (ms since the epoch). */
export interface DelayedMessage {
  due: number;
  envelope: Envelope;
}

export class DelayedMessages {
  /** Sorted by `due`, then by when added. */
  private items: DelayedMessage[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Number.POSITIVE_INFINITY;

  /** `onDue` is called (from a timer) when the earliest message may have become due. */
  constructor(private readonly onDue: () => void) {}

  get length(): number {
    return this.items.length;
  }

  add(m: DelayedMessage): void {
    // Insert after every message due at the same time or earlier (stable for equal times).
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.due <= m.due) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, m);
    this.arm();
  }

  /** Removes and returns the messages due at `now`, earliest first. */
  takeDue(now: number): Envelope[] {
    let n = 0;
    while (n < this.items.length && this.items[n]!.due <= now) n++;
    if (n === 0) {
      this.arm();
      return [];
    }
    const due = this.items.splice(0, n).map((m) => m.envelope);
    this.arm();
    return due;
  }

  /** What a checkpoint keeps (a copy). */
  toArray(): DelayedMessage[] {
    return this.items.slice();
  }

  /** Stops the timer (the task ended). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
  }

  /** Keeps one timer, for the earliest message. */
  private arm(): void {
    const first = this.items[0]?.due ?? Number.POSITIVE_INFINITY;
    if (first === this.timerDue) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = first;
    if (first === Number.POSITIVE_INFINITY) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerDue = Number.POSITIVE_INFINITY;
        this.onDue();
      },
      Math.max(0, Math.min(first - Date.now(), 2 ** 31 - 1)),
    );
  }
}
