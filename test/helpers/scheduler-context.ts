/**
 * A SchedulerContext whose simulated TaskExecutors acknowledge every call (Flink's
 * SimpleAckingTaskManagerGateway in its scheduler tests), recording what the scheduler asked for.
 */
import type { AssignedSlot, Execution } from "../../src/executiongraph/execution.js";
import type { JobStatus } from "../../src/executiongraph/job-status.js";
import type { SchedulerContext, SchedulerNG } from "../../src/scheduler/scheduler-ng.js";
import { newId } from "../../src/core/ids.js";

/** What an {@link ackingSchedulerContext} recorded, and helpers to drive a scheduler with it. */
export interface AckingContext {
  ctx: SchedulerContext;
  deployed: Execution[];
  canceled: Execution[];
  declared: number[];
  released: AssignedSlot[];
  ended: JobStatus[];
  /** Offers `n` slots of TaskExecutor `te` to `scheduler`. */
  offer(scheduler: SchedulerNG, te: string, n: number): void;
  /** Reports `state` for each execution (RUNNING is preceded by INITIALIZING). */
  report(scheduler: SchedulerNG, es: Execution[], state: "RUNNING" | "CANCELED" | "FAILED" | "FINISHED"): void;
  /** Lets the scheduler's zero-delay timers run. */
  tick(): Promise<void>;
  /** Clears every timer still armed. */
  dispose(): void;
}

export function ackingSchedulerContext(): AckingContext {
  const deployed: Execution[] = [];
  const canceled: Execution[] = [];
  const declared: number[] = [];
  const released: AssignedSlot[] = [];
  const ended: JobStatus[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const ctx: SchedulerContext = {
    declareRequiredSlots: (n) => void declared.push(n),
    deploy: async (e) => void deployed.push(e),
    cancelTask: async (e) => void canceled.push(e),
    releaseSlot: (s) => void released.push(s),
    releasePartitions: () => undefined,
    jobTerminated: (s) => void ended.push(s),
    schedule: (ms, fn) => {
      const h = setTimeout(() => (timers.delete(h), fn()), ms);
      timers.add(h);
      return () => (clearTimeout(h), timers.delete(h));
    },
  };
  return {
    ctx,
    deployed,
    canceled,
    declared,
    released,
    ended,
    offer: (scheduler, te, n) =>
      scheduler.newSlotsAvailable(Array.from({ length: n }, (_, i) => ({ allocationId: newId(), taskExecutorId: te, slotIndex: i }))),
    report: (scheduler, es, state) => {
      for (const e of es) {
        if (state === "RUNNING") scheduler.updateTaskExecutionState({ attemptId: e.attemptId, state: "INITIALIZING" });
        scheduler.updateTaskExecutionState({ attemptId: e.attemptId, state });
      }
    },
    tick: () => new Promise((r) => setTimeout(r, 5)),
    dispose: () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
