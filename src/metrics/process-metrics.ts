/**
 * A process's own metrics (TaskExecutor scope): V8 heap, RSS, CPU load from `process.cpuUsage`
 * deltas, the event loop's longest delay (perf_hooks' monitorEventLoopDelay), and the host's
 * hardware. Sampled once per report; between samples it costs the delay monitor's timer only.
 */
import { availableParallelism, totalmem } from "node:os";
import { monitorEventLoopDelay, performance, type IntervalHistogram } from "node:perf_hooks";
import type { MetricValues } from "./types.js";

/** Resolution of the event-loop delay monitor, ms (its own timer's interval), unless given. */
const LAG_RESOLUTION_MS = 20;

/**
 * The monitor resolution of each slot thread of a TaskExecutor with `slots` slots: their timers
 * together wake the process about 250 times a second at most (20 ms each for up to 5 slots, then
 * 4 ms per slot; at most 1 s, the report interval). Each wake of an idle thread costs 0.1-0.2 ms of
 * CPU on a virtual machine, and 128 slot threads at 128 ms each kept a tenth of a core busy.
 */
export function slotLagResolutionMs(slots: number): number {
  return Math.min(1_000, Math.max(LAG_RESOLUTION_MS, Math.ceil(slots) * 4));
}

/** Longest event-loop delay since the last call, ms; the monitor restarts. */
export class EventLoopLag {
  private readonly h: IntervalHistogram;
  private on = false;

  constructor(
    active = true,
    private readonly resolutionMs = LAG_RESOLUTION_MS,
  ) {
    this.h = monitorEventLoopDelay({ resolution: resolutionMs });
    this.setActive(active);
  }

  /** Starts or stops the monitor (its timer wakes the thread every resolution: an idle process turns it off). */
  setActive(active: boolean): void {
    if (active === this.on) return;
    this.on = active;
    if (active) {
      this.h.reset();
      this.h.enable();
    } else this.h.disable();
  }

  get active(): boolean {
    return this.on;
  }

  /** The longest delay recorded since the last take (0 when none was), in ms; resets. */
  take(): number {
    // The monitor records each tick's full interval: the resolution itself is no delay.
    const max = this.h.count > 0 ? Math.max(0, this.h.max / 1e6 - this.resolutionMs) : 0;
    this.h.reset();
    return Math.round(max * 10) / 10;
  }

  stop(): void {
    this.setActive(false);
  }
}

/**
 * Samples the process metrics of a TaskExecutor (or any process), once per report interval. The
 * event-loop lag comes from the delay monitor while the process is busy ({@link setBusy}); an idle
 * process spares the monitor's timer and reports how late its own report timer fired instead.
 */
export class ProcessMetrics {
  private readonly lag = new EventLoopLag(false);
  private lastCpu = process.cpuUsage();
  private lastWall = performance.now();
  private readonly cores = availableParallelism();
  private readonly memory = totalmem();

  /** `intervalMs`: how often {@link sample} is called (its lateness is the idle lag). */
  constructor(private readonly intervalMs: number) {}

  /** Whether the process runs work now (the delay monitor runs only then). */
  setBusy(busy: boolean): void {
    this.lag.setActive(busy);
  }

  /**
   * Writes Status.Memory.*, Status.CPU.Load, Status.EventLoop.LagMs and Hardware.* into `out`.
   * `expectedMs`: how long after the last sample this one was due (an idle reporter skips some).
   */
  sample(out: MetricValues, expectedMs = this.intervalMs): void {
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    const wall = performance.now();
    const usedUs = cpu.user - this.lastCpu.user + (cpu.system - this.lastCpu.system);
    const wallMs = wall - this.lastWall;
    this.lastCpu = cpu;
    this.lastWall = wall;
    out["Status.Memory.Heap.Used"] = mem.heapUsed;
    out["Status.Memory.Heap.Committed"] = mem.heapTotal;
    out["Status.Memory.RSS"] = mem.rss;
    out["Status.CPU.Load"] = wallMs > 0 ? Math.round((usedUs / (wallMs * 1000)) * 1000) / 1000 : 0;
    out["Status.EventLoop.LagMs"] = this.lag.active ? this.lag.take() : Math.round(Math.max(0, wallMs - expectedMs) * 10) / 10;
    out["Hardware.CpuCores"] = this.cores;
    out["Hardware.PhysicalMemory"] = this.memory;
  }

  stop(): void {
    this.lag.stop();
  }
}

/** False when `EDDY_METRICS=off` (the benchmark's switch): TaskExecutors and JobMasters then report nothing. */
export function metricsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.EDDY_METRICS?.toLowerCase() !== "off";
}
