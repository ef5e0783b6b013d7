/** One tab of the job page. Only the shown tab gets updates and runs requests. */
import type { CheckpointStats, JobDetails } from "./types.js";

export interface Tab {
  el: HTMLElement;
  /** Every update of the job while the tab is shown, and the latest one when it is shown. */
  job?(j: JobDetails): void;
  /** Every update of the job's checkpoint statistics while the tab is shown. */
  checkpoints?(c: CheckpointStats): void;
  /** The tab became visible. */
  show?(): void;
  /** The tab was hidden or the page left: stop timers and requests. */
  hide?(): void;
}

/**
 * Runs `load` at most once per `minMs` and never twice at once: live updates arrive every second and
 * a slow answer must not pile requests up. A call that comes too early is not dropped but runs once
 * the interval is over, so the last update (a job that just ended) is always shown.
 */
export function throttled(minMs: number, load: () => Promise<void>): { run(): void; cancel(): void } {
  let busy = false;
  let last = 0;
  let pending = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = (): void => {
    const wait = last + minMs - Date.now();
    if (busy || wait > 0) {
      pending = true;
      if (!busy && timer === undefined) timer = setTimeout(fire, wait);
      return;
    }
    busy = true;
    pending = false;
    last = Date.now();
    load()
      .catch(() => undefined) // each load shows its own error; the next update tries again
      .finally(() => {
        busy = false;
        if (pending && timer === undefined) timer = setTimeout(fire, Math.max(0, last + minMs - Date.now()));
      });
  };
  const fire = (): void => {
    timer = undefined;
    run();
  };
  return {
    run,
    cancel() {
      pending = false;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
