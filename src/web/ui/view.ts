/** What the router mounts: one view per route, fed by the live stream, disposed when the route changes. */
import type { LiveHandlers } from "./api.js";

export interface View {
  el: HTMLElement;
  /** The job whose events this view needs from the live stream (`/events?job=`). */
  followJob?: string;
  live: LiveHandlers;
  /** Stops the view's timers and requests. */
  dispose?(): void;
}

/** Job states after which a job changes no more (and takes no actions). */
export const TERMINAL_STATES: ReadonlySet<string> = new Set(["FINISHED", "CANCELED", "FAILED", "SUSPENDED"]);
