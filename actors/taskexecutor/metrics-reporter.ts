/**
 * A TaskExecutor's metric report: once a second ONE message on `<prefix>.metrics.te.<teId>` with the
 * process's own metrics and the tasks whose values changed since the last report (a delta); every
 * {@link FULL_EVERY}th report carries every task, so a store that starts late (a new JobManager) fills
 * up. The slot threads post their tasks' values here once a second (actors/task/slot-metrics.ts).
 * An idle TaskExecutor (no slot thread at work, its slots unchanged) reports every
 * {@link IDLE_REPORT_EVERY}th interval only: its figures do not move, and an idle cluster's CPU is
 * mostly these reports (Flink's metric fetcher asks every 10 s). It also sleeps through the intervals it
 * skips (every wake of an idle process costs CPU); a slot thread's values or a slot allocated or
 * freed wake it for the next interval.
 */
import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../src/core/logger.js";
import type { Subjects } from "../../src/rpc/subjects.js";
import {
  encodeReport,
  ProcessMetrics,
  slotLagMetric,
  TASK_SILENCE_MS,
  TaskDelta,
  type MetricValues,
  type TaskEntry,
  type TaskExecutorReport,
} from "../../src/metrics/index.js";

/** Report interval. */
export const TE_REPORT_INTERVAL_MS = 1_000;
/** Every this many reports, one lists every task. */
export const FULL_EVERY = 10;
/** An idle TaskExecutor reports every this many intervals. */
export const IDLE_REPORT_EVERY = 10;

/** Collects the slot threads' values and publishes the TaskExecutor's reports. */
export class TaskExecutorMetricsReporter {
  private readonly process = new ProcessMetrics(TE_REPORT_INTERVAL_MS);
  private readonly host = hostname();
  private readonly tasks = new TaskDelta();
  private readonly slotLag = new Map<number, { lagMs: number; at: number }>();
  private count = 0;
  /** Intervals skipped since the last report (idle). */
  private skipped = 0;
  private lastFree = -1;
  private timer: NodeJS.Timeout | undefined;
  /** The timer sleeps through the idle intervals. */
  private sleeping = false;
  private stopped = false;
  /** When the timer is due (performance.now()), and when the last report went out. */
  private dueAt = 0;
  private lastAt = performance.now();

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly teId: string,
    private readonly slots: () => { total: number; free: number },
    private readonly log: Logger,
  ) {
    this.arm(TE_REPORT_INTERVAL_MS);
  }

  /** A slot thread's message of its tasks' values. */
  fromSlot(slot: number, lagMs: number, tasks: TaskEntry[]): void {
    const now = Date.now();
    this.slotLag.set(slot, { lagMs, at: now });
    this.tasks.update(tasks, now);
    this.wake();
  }

  /** A slot was allocated or freed: reported at the next interval, not after an idle sleep. */
  slotsChanged(): void {
    this.wake();
  }

  private wake(): void {
    if (this.sleeping && !this.stopped) this.arm(TE_REPORT_INTERVAL_MS);
  }

  private arm(ms: number): void {
    clearTimeout(this.timer);
    this.sleeping = ms > TE_REPORT_INTERVAL_MS;
    this.dueAt = performance.now() + ms;
    this.timer = setTimeout(() => this.onTimer(), ms);
    this.timer.unref();
  }

  /** One interval, or the last of an idle sleep: publishes if due, then sleeps while idle. */
  private onTimer(): void {
    if (this.stopped) return;
    // After a sleep the skipped intervals are counted as skipped, so that this one is due.
    if (this.sleeping) this.skipped = IDLE_REPORT_EVERY - 1;
    this.publish();
    const idle = this.idle(Date.now()) && this.slots().free === this.lastFree;
    this.arm(idle && this.skipped === 0 ? TE_REPORT_INTERVAL_MS * IDLE_REPORT_EVERY : TE_REPORT_INTERVAL_MS);
  }

  /** True when no slot thread reported lately: nothing of this TaskExecutor's figures moves. */
  private idle(now: number): boolean {
    for (const l of this.slotLag.values()) if (now - l.at <= TASK_SILENCE_MS) return false;
    return true;
  }

  /** The next report; `expectedMs` since the last one. */
  private buildReport(now: number, slots: { total: number; free: number }, expectedMs: number): TaskExecutorReport {
    const full = this.count++ % FULL_EVERY === 0;
    const values: MetricValues = {};
    const { total, free } = slots;
    values["Status.Slots.Total"] = total;
    values["Status.Slots.Free"] = free;
    for (const [slot, l] of this.slotLag) {
      if (now - l.at > TASK_SILENCE_MS) this.slotLag.delete(slot);
      else values[slotLagMetric(slot)] = l.lagMs;
    }
    this.process.sample(values, expectedMs);
    // The main thread's delay monitor runs while some slot thread does (the TaskExecutor has work).
    this.process.setBusy(this.slotLag.size > 0);
    return { teId: this.teId, t: now, full, host: this.host, values, tasks: this.tasks.take(full, now) };
  }

  private publish(): void {
    const now = Date.now();
    const slots = this.slots();
    const slotsChanged = slots.free !== this.lastFree;
    this.lastFree = slots.free;
    if (!slotsChanged && this.idle(now) && this.skipped < IDLE_REPORT_EVERY - 1) {
      this.skipped++;
      return;
    }
    // How long after the last report this one was due: its timer's lateness is the idle lag.
    const expectedMs = this.dueAt - this.lastAt;
    this.lastAt = performance.now();
    this.skipped = 0;
    try {
      this.nc.publish(this.subjects.metricsTaskExecutor(this.teId), encodeReport(this.buildReport(now, slots, expectedMs)));
    } catch (err) {
      this.log.debug({ err }, "metric report not published");
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.process.stop();
  }
}
