/**
 * Where a task's time goes, as Flink defines it: idle while it waits for input, back-pressured while
 * it waits for its output to become available, busy otherwise. The network input and output mark the
 * start and end of each real wait (one clock read each; data that is ready costs none); the three
 * times are disjoint and add up to the task's wall time (a chain's members wait concurrently: a wait
 * for output counts before one for input).
 */
import { performance } from "node:perf_hooks";

/** Cumulative busy, idle and back-pressured time of one task, in ms. */
export class IoTimer {
  private idleWaits = 0;
  private outputWaits = 0;
  private since = performance.now();
  private readonly start = this.since;
  private idle = 0;
  private backPressured = 0;

  /** A wait for input begins. */
  idleStart(): void {
    this.switch();
    this.idleWaits++;
  }

  /** A wait for input ends. */
  idleEnd(): void {
    this.switch();
    if (this.idleWaits > 0) this.idleWaits--;
  }

  /** A wait for output availability begins. */
  backPressureStart(): void {
    this.switch();
    this.outputWaits++;
  }

  /** A wait for output availability ends. */
  backPressureEnd(): void {
    this.switch();
    if (this.outputWaits > 0) this.outputWaits--;
  }

  /** Cumulative times in ms up to `now` (performance.now()), written to `out` as [busy, idle, backPressured]. */
  sample(out: { busy: number; idle: number; backPressured: number }, now = performance.now()): void {
    const open = now - this.since;
    const bp = this.backPressured + (this.outputWaits > 0 ? open : 0);
    const idle = this.idle + (this.outputWaits === 0 && this.idleWaits > 0 ? open : 0);
    out.idle = idle;
    out.backPressured = bp;
    out.busy = Math.max(0, now - this.start - idle - bp);
  }

  /** Closes the current interval into the bucket of the state it was in. */
  private switch(): void {
    const now = performance.now();
    const d = now - this.since;
    this.since = now;
    if (this.outputWaits > 0) this.backPressured += d;
    else if (this.idleWaits > 0) this.idle += d;
  }
}
