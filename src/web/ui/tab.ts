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
 * a slow answer must not pile requests up.
 */
export function throttled(minMs: number, load: () => Promise<void>): () => void {
  let busy = false;
  let last = 0;
  return () => {
    if (busy || Date.now() - last < minMs) return;
    busy = true;
    last = Date.now();
    load()
      .catch(() => undefined) // each load shows its own error; the next update tries again
      .finally(() => {
        busy = false;
      });
  };
}
