/**
 * The metric registry of one slot's worker thread: the {@link TaskMetrics} of the tasks it runs.
 * Once a second it posts one message to the TaskExecutor's main thread with every task's values (and
 * the last values of tasks that ended since) and the thread's event-loop lag; no message per record
 * or per buffer ever crosses threads.
 */
import { EventLoopLag, slotLagResolutionMs } from "../../src/metrics/index.js";
import type { TaskEntry } from "../../src/metrics/index.js";
import type { TaskMetrics } from "./task-metrics.js";
import type { FromWorker } from "./protocol.js";

/** How often a slot thread posts its tasks' values. */
export const SLOT_METRICS_INTERVAL_MS = 1_000;

/** A slot thread's registry of task metrics. */
export class SlotMetrics {
  private readonly live = new Map<string, TaskMetrics>();
  private ended: TaskEntry[] = [];
  private readonly lag: EventLoopLag;
  private readonly timer: NodeJS.Timeout;

  /** `slots`: how many slots (so slot threads) the TaskExecutor has, which sets the lag monitor's resolution. */
  constructor(
    private readonly post: (m: FromWorker & { type: "metrics" }) => void,
    slots = 1,
  ) {
    this.lag = new EventLoopLag(true, slotLagResolutionMs(slots));
    this.timer = setInterval(() => this.report(), SLOT_METRICS_INTERVAL_MS);
    this.timer.unref();
  }

  add(m: TaskMetrics): void {
    this.live.set(m.attemptId, m);
  }

  /** The task ended: its last values go with the next message, then it is forgotten. */
  remove(m: TaskMetrics): void {
    if (this.live.delete(m.attemptId)) this.ended.push(m.sample(true));
  }

  /** Posts the values now. */
  report(): void {
    const tasks = this.ended;
    this.ended = [];
    for (const m of this.live.values()) tasks.push(m.sample());
    this.post({ type: "metrics", lagMs: this.lag.take(), tasks });
  }

  /** Posts the last values and stops the timer and the lag monitor. */
  stop(): void {
    clearInterval(this.timer);
    this.report();
    this.lag.stop();
  }
}
