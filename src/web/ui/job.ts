/**
 * #/jobs/<jid>[/<tab>]: the job's header (state, times, restarts, checkpoints, actions), its graph,
 * and the tabs. Fed by the live stream's `job` and `checkpoints` events; a tab change keeps the page.
 */
import { jobActions } from "./actions.js";
import { ApiError, api } from "./api.js";
import { h, setText, stateBadge, updateStateBadge } from "./dom.js";
import { checkpointsTab } from "./checkpoints.js";
import { exceptionsTab } from "./exceptions.js";
import * as f from "./format.js";
import { JobGraph } from "./job-graph.js";
import { rescaleTab } from "./rescale.js";
import { subtasksTab } from "./subtasks.js";
import type { Tab } from "./tab.js";
import { throughputTab } from "./throughput.js";
import type { CheckpointStats, JobDetails } from "./types.js";
import { TERMINAL_STATES, type View } from "./view.js";
import { watermarksTab } from "./watermarks.js";

export const JOB_TABS = ["subtasks", "exceptions", "checkpoints", "watermarks", "throughput", "rescale"] as const;
export type JobTab = (typeof JOB_TABS)[number];
const TAB_TITLES: Record<JobTab, string> = {
  subtasks: "Subtasks",
  exceptions: "Exceptions",
  checkpoints: "Checkpoints",
  watermarks: "Watermarks",
  throughput: "Throughput",
  rescale: "Rescale",
};

export function jobView(jid: string, initialTab: JobTab): View & { showTab(t: JobTab): void } {
  let job: JobDetails | undefined;
  let disposed = false;
  const name = h("span", { class: "job-name" }, jid);
  const badge = stateBadge("…");
  badge.setAttribute("data-testid", "job-state");
  const facts = h("div", { class: "job-facts dim" });
  const err = h("p", { class: "error" });
  const actions = jobActions(
    () => jid,
    () => job?.name ?? jid,
  );
  actions.setRunning(false);
  const graph = new JobGraph((vid) => {
    location.hash = `#/jobs/${jid}/subtasks`;
    selectVertex(vid);
  });
  const subtasks = subtasksTab(jid, (vid) => selectVertex(vid));
  const tabs: Record<JobTab, Tab> = {
    subtasks,
    exceptions: exceptionsTab(jid),
    checkpoints: checkpointsTab(jid),
    watermarks: watermarksTab(jid),
    throughput: throughputTab(jid),
    rescale: rescaleTab(jid),
  };
  const tabLinks = new Map<JobTab, HTMLAnchorElement>();
  const bar = h(
    "nav",
    { class: "tabs" },
    ...JOB_TABS.map((t) => {
      const a = h("a", { class: "tab-link", href: `#/jobs/${jid}/${t}`, "data-tab": t }, TAB_TITLES[t]);
      tabLinks.set(t, a);
      return a;
    }),
  );
  const body = h("div", { class: "tab-body" });
  const el = h(
    "div",
    { class: "view job" },
    h("h1", {}, name, " ", badge, " ", actions.el),
    facts,
    err,
    h("div", { class: "graph-scroll" }, graph.el),
    bar,
    body,
  );

  let current: JobTab | undefined;
  let selected: string | undefined;
  const selectVertex = (vid: string) => {
    selected = vid;
    graph.select(vid);
    subtasks.select(vid);
  };
  const showTab = (t: JobTab) => {
    if (t === current) return;
    if (current) tabs[current].hide?.();
    current = t;
    for (const [k, a] of tabLinks) a.classList.toggle("active", k === t);
    body.replaceChildren(tabs[t].el);
    tabs[t].show?.();
    if (job) tabs[t].job?.(job);
  };

  const showJob = (j: JobDetails) => {
    if (disposed || j.jid !== jid) return;
    job = j;
    setText(name, j.name);
    document.title = `${j.name} · Eddy`;
    updateStateBadge(badge, j.state);
    actions.setRunning(!TERMINAL_STATES.has(j.state));
    const now = j.now ?? Date.now();
    const cp = j.checkpoints;
    setText(
      facts,
      [
        `ID ${j.jid}`,
        `started ${f.time(j["start-time"], now)}`,
        j["end-time"] > 0 ? `ended ${f.time(j["end-time"], now)}` : "",
        `duration ${f.runningFor(j["start-time"], j["end-time"], j.duration, now)}`,
        `restarts ${j.numRestarts ?? 0}`,
        cp ? `checkpoints ${cp.completed ?? 0} completed, ${cp.failed ?? 0} failed, ${cp.in_progress ?? 0} in progress` : "",
      ]
        .filter(Boolean)
        .join(" · "),
    );
    graph.update(j);
    if (!selected && j.vertices[0]) selectVertex(j.vertices[0].id);
    if (current) tabs[current].job?.(j);
  };
  const showCheckpoints = (c: CheckpointStats) => {
    if (!disposed && current) tabs[current].checkpoints?.(c);
  };

  showTab(initialTab);
  api
    .get<JobDetails>(`jobs/${jid}`)
    .then(showJob)
    .catch((e: Error) => setText(err, e instanceof ApiError && e.status === 404 ? `No job ${jid} on this cluster.` : e.message));
  return {
    el,
    followJob: jid,
    live: { job: showJob, checkpoints: showCheckpoints },
    showTab,
    dispose() {
      disposed = true;
      if (current) tabs[current].hide?.();
    },
  };
}
