/** #/jobs: every job the cluster knows, running first, with cancel, savepoint and stop-with-savepoint. */
import { api } from "./api.js";
import { h } from "./dom.js";
import { jobsTable, section, sortJobs } from "./jobs-table.js";
import type { JobsOverview } from "./types.js";
import { TERMINAL_STATES, type View } from "./view.js";

export function jobsView(): View {
  const running = jobsTable({ actions: true, empty: "no running jobs" });
  const done = jobsTable({ actions: false, empty: "no completed jobs" });
  const el = h("div", { class: "view jobs" }, h("h1", {}, "Jobs"), section("Running", running.el), section("Completed", done.el));
  let disposed = false;
  const show = (j: JobsOverview) => {
    const jobs = sortJobs(j.jobs);
    running.update(jobs.filter((x) => !TERMINAL_STATES.has(x.state)));
    done.update(jobs.filter((x) => TERMINAL_STATES.has(x.state)));
  };
  api
    .get<JobsOverview>("jobs/overview")
    .then((j) => !disposed && show(j))
    .catch(() => undefined); // the live stream delivers the same a moment later
  return {
    el,
    live: { overview: (e) => show(e.jobs) },
    dispose: () => {
      disposed = true;
    },
  };
}
