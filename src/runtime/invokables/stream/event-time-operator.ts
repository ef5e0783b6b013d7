/**
 * What the event-time operators (windows, interval join) share: timers restored from keyed state with
 * the watermark of the checkpoint, the element loop that fires timers as the watermark advances and
 * forwards it, the timestamp check, and late elements sent to a side output or dropped, counted either
 * way in the accumulators `<vertex>.late-records-side-output` and `<vertex>.late-records-dropped`.
 */
import type { Accumulator, Invokable, TaskContext } from "../../api.js";
import { forEachElement, type StreamOutput } from "../../streaming/stream-operator.js";
import type { InternalTimerService, Namespace, Triggerable } from "../../streaming/timer-service.js";
import { restoreTimers, type OperatorTimers } from "./keyed.js";

/** `ts` as an event time; a TypeError naming `where` when the timestamp assigner did not return a number. */
export function eventTime(ts: unknown, where: string): number {
  if (typeof ts !== "number" || Number.isNaN(ts)) throw new TypeError(`${where}: the timestamp assigner returned ${String(ts)}; timestamps are numbers (ms)`);
  return ts;
}

/** Where an operator's late elements go. */
export class LateElements {
  private readonly dropped: Accumulator;
  private readonly toSide: Accumulator;

  constructor(
    ctx: TaskContext,
    private readonly so: StreamOutput,
  ) {
    this.dropped = ctx.accumulator(`${ctx.tdd.vertexId}.late-records-dropped`);
    this.toSide = ctx.accumulator(`${ctx.tdd.vertexId}.late-records-side-output`);
  }

  /** `value` is late: to side output `tag` when there is one, else dropped. */
  late(value: unknown, tag: string | undefined): void {
    if (tag !== undefined) {
      this.so.side(tag, value);
      this.toSide.add(1);
    } else this.dropped.add(1);
  }
}

/** An operator driven by event-time timers (only); subclasses handle batches and their timers. */
export abstract class EventTimeOperator implements Invokable, Triggerable {
  protected timers!: InternalTimerService;
  private restored: OperatorTimers | undefined;

  constructor(
    protected readonly so: StreamOutput,
    /** Distinguishes the timer states (`__<name>_event`) in the keyed backend. */
    private readonly timerName: string,
  ) {}

  async restore(ctx: TaskContext): Promise<void> {
    this.restored = restoreTimers(ctx, this, this.timerName);
    this.timers = this.restored.timers;
  }

  snapshotState(): void {
    this.restored?.snapshot();
  }

  abstract onEventTime(timestamp: number, ns: Namespace): void;

  onProcessingTime(): void {}

  abstract invoke(ctx: TaskContext): Promise<void>;

  /** The element loop: batches to `batch`; each watermark fires the timers due and goes downstream. */
  protected async run(ctx: TaskContext, batch: (records: unknown[], gate: number, from: number, to: number) => void): Promise<void> {
    if (!this.timers) await this.restore(ctx);
    try {
      await forEachElement(ctx, {
        batch,
        watermark: (w) => {
          this.timers.advanceWatermark(w);
          this.so.watermark(w);
        },
      });
    } finally {
      this.timers.close();
    }
  }
}
