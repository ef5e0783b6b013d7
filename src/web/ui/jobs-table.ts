/** The table of jobs (overview and jobs page): name, state, start, duration, tasks, and optionally the actions. */
import { jobActions } from "./actions.js";
import { h, stateBadge, updateStateBadge } from "./dom.js";
import * as f from "./format.js";
import { type Column, KeyedTable, linkCell } from "./table.js";
import type { JobOverview } from "./types.js";
import { TERMINAL_STATES } from "./view.js";

function tasksText(t: Record<string, number> | undefined): string {
  if (!t) return "–";
  const total = t.total ?? 0;
  const parts = [`${t.running ?? 0}/${total} running`];
  for (const k of ["finished", "canceled", "failed"]) if ((t[k] ?? 0) > 0) parts.push(`${t[k]} ${k}`);
  return parts.join(", ");
}

export function jobsTable(opts: { actions: boolean; empty: string }): KeyedTable<JobOverview> {
  const cols: Column<JobOverview>[] = [
    {
      title: "Job",
      build: linkCell(
        (j) => j.name,
        (j) => `#/jobs/${j.jid}`,
      ),
    },
    {
      title: "State",
      build: (td, j) => {
        const b = stateBadge(j.state);
        td.append(b);
        return (r) => updateStateBadge(b, r.state);
      },
    },
    { title: "Start", text: (j) => f.time(j["start-time"]) },
    { title: "End", text: (j) => (j["end-time"] > 0 ? f.time(j["end-time"]) : "–") },
    { title: "Duration", class: "num", text: (j) => f.runningFor(j["start-time"], j["end-time"], j.duration) },
    { title: "Tasks", text: (j) => tasksText(j.tasks) },
    { title: "Job ID", class: "mono dim", text: (j) => j.jid },
  ];
  if (opts.actions) {
    cols.push({
      title: "",
      build: (td, j) => {
        let cur = j;
        const a = jobActions(
          () => cur.jid,
          () => cur.name,
        );
        a.setRunning(!TERMINAL_STATES.has(j.state));
        td.append(a.el);
        return (r) => {
          cur = r;
          a.setRunning(!TERMINAL_STATES.has(r.state));
        };
      },
    });
  }
  return new KeyedTable(cols, (j) => j.jid, opts.empty);
}

/** Running jobs first (newest first), then the ended ones by end time, newest first. */
export function sortJobs(jobs: readonly JobOverview[]): JobOverview[] {
  return [...jobs].sort((a, b) => {
    const ra = TERMINAL_STATES.has(a.state) ? 1 : 0;
    const rb = TERMINAL_STATES.has(b.state) ? 1 : 0;
    if (ra !== rb) return ra - rb;
    return ra === 0 ? b["start-time"] - a["start-time"] : b["end-time"] - a["end-time"];
  });
}

/** A section with a heading. */
export function section(title: string, ...body: Node[]): HTMLElement {
  return h("section", {}, h("h2", {}, title), ...body);
}
