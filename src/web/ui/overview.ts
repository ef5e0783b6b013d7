/**
 * The first page (#/overview): the cluster's TaskExecutors and slots, jobs by state, the running and
 * recently finished jobs, and the TaskExecutors. Follows the live stream's `overview` event.
 */
import { api } from "./api.js";
import { statCards } from "./cards.js";
import { h, setText } from "./dom.js";
import * as f from "./format.js";
import { jobsTable, section, sortJobs } from "./jobs-table.js";
import { taskManagersTable } from "./taskmanagers.js";
import type { ClusterOverview, OverviewEvent, TaskManagers } from "./types.js";
import { TERMINAL_STATES, type View } from "./view.js";

const RECENT_FINISHED = 10;
const TASKMANAGERS_REFRESH_MS = 5_000;

export function overviewView(): View {
  const cards = statCards([
    ["taskmanagers", "TaskExecutors"],
    ["slots-total", "slots"],
    ["slots-available", "slots available"],
    ["jobs-running", "running"],
    ["jobs-finished", "finished"],
    ["jobs-cancelled", "canceled"],
    ["jobs-failed", "failed"],
  ]);
  const running = jobsTable({ actions: false, empty: "no running jobs" });
  const finished = jobsTable({ actions: false, empty: "no finished jobs" });
  const tms = taskManagersTable();
  const version = h("span", { class: "dim" });
  const el = h(
    "div",
    { class: "view overview" },
    h("h1", {}, "Cluster overview ", version),
    cards.el,
    section("Running jobs", running.el),
    section("Recently finished jobs", finished.el),
    section("TaskExecutors", tms.el),
  );
  let lastTms = 0;
  let disposed = false;
  const refreshTms = () => {
    lastTms = Date.now();
    api
      .get<TaskManagers>("taskmanagers")
      .then((t) => !disposed && tms.update(t.taskmanagers))
      .catch(() => undefined); // the next overview event asks again
  };
  const show = (e: OverviewEvent) => {
    const o: ClusterOverview = e.overview;
    for (const k of ["taskmanagers", "slots-total", "slots-available", "jobs-running", "jobs-finished", "jobs-cancelled", "jobs-failed"] as const)
      cards.set(k, f.count(o[k]));
    setText(version, o["eddy-version"] ? `Eddy ${o["eddy-version"]}` : "");
    const jobs = sortJobs(e.jobs.jobs);
    running.update(jobs.filter((j) => !TERMINAL_STATES.has(j.state)));
    finished.update(jobs.filter((j) => TERMINAL_STATES.has(j.state)).slice(0, RECENT_FINISHED));
    if (Date.now() - lastTms >= TASKMANAGERS_REFRESH_MS) refreshTms();
  };
  Promise.all([api.get<ClusterOverview>("overview"), api.get<OverviewEvent["jobs"]>("jobs/overview")])
    .then(([overview, jobs]) => !disposed && show({ overview, jobs }))
    .catch(() => undefined); // the live stream delivers the same a moment later
  return {
    el,
    live: { overview: show },
    dispose: () => {
      disposed = true;
    },
  };
}
