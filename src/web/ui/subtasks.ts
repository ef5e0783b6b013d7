/**
 * The subtasks tab: every vertex aggregated over its subtasks (one row per vertex, whatever its
 * parallelism), and the subtasks of the chosen vertex one page at a time
 * (`/jobs/:jid/vertices/:vid?offset&limit`), so a vertex of parallelism 1,000 costs 50 rows.
 */
import { api } from "./api.js";
import { h, setText, stateBadge, updateStateBadge } from "./dom.js";
import * as f from "./format.js";
import { section } from "./jobs-table.js";
import { type Tab, throttled } from "./tab.js";
import { type Column, KeyedTable, linkCell } from "./table.js";
import type { JobDetails, JobVertex, SubtaskDetails, VertexDetails, VertexMetrics } from "./types.js";

export const PAGE_SIZE = 50;

function badgeCell<R>(state: (r: R) => string): Column<R>["build"] {
  return (td, r) => {
    const b = stateBadge(state(r));
    td.append(b);
    return (row) => updateStateBadge(b, state(row));
  };
}

/** The metric columns shared by the vertex and the subtask tables; rates only while `status` is RUNNING (an ended task's last rate is not a rate). */
function metricColumns<R>(m: (r: R) => VertexMetrics | undefined, status: (r: R) => string): Column<R>[] {
  const level = (r: R) => f.backPressureLevel(m(r)?.["backpressure-ratio"]);
  const live = (r: R, v: number | undefined) => (status(r) === "RUNNING" ? f.rate(v) : "–");
  return [
    { title: "Records in/s", class: "num", text: (r) => live(r, m(r)?.["read-records-per-second"]) },
    { title: "Records out/s", class: "num", text: (r) => live(r, m(r)?.["write-records-per-second"]) },
    { title: "Records in", class: "num", text: (r) => f.count(m(r)?.["read-records"]) },
    { title: "Records out", class: "num", text: (r) => f.count(m(r)?.["write-records"]) },
    { title: "Bytes in", class: "num", text: (r) => f.bytes(m(r)?.["read-bytes"]) },
    { title: "Bytes out", class: "num", text: (r) => f.bytes(m(r)?.["write-bytes"]) },
    {
      title: "Back-pressure",
      class: "num",
      build: (td, r) => {
        const s = h("span", { class: "bp" });
        td.append(s);
        const upd = (row: R) => {
          const l = level(row);
          setText(s, l ? `${l.toUpperCase()} ${f.percent(m(row)?.["backpressure-ratio"])}` : "–");
          if (l) s.setAttribute("data-level", l);
        };
        upd(r);
        return upd;
      },
    },
    { title: "Busy", class: "num", text: (r) => f.percent(m(r)?.["busy-ratio"]) },
  ];
}

export function subtasksTab(jid: string, onSelect: (vid: string) => void): Tab & { select(vid: string): void } {
  const vertices = new KeyedTable<JobVertex>(
    [
      { title: "Vertex", class: "name", build: (td, v) => selectableName(td, v, onSelect) },
      { title: "Parallelism", class: "num", text: (v) => String(v.parallelism) },
      { title: "Status", build: badgeCell((v) => v.status) },
      ...metricColumns<JobVertex>(
        (v) => v.metrics,
        (v) => v.status,
      ),
    ],
    (v) => v.id,
    "no vertices",
  );
  const subtasks = new KeyedTable<SubtaskDetails>(
    [
      { title: "#", class: "num", text: (s) => String(s.subtask) },
      { title: "Status", build: badgeCell((s) => s.status) },
      { title: "Attempt", class: "num", text: (s) => String(s.attempt ?? 0) },
      {
        title: "TaskExecutor",
        class: "mono",
        build: linkCell(
          (s) => s["taskmanager-id"] ?? "–",
          (s) => (s["taskmanager-id"] ? `#/taskmanagers/${encodeURIComponent(s["taskmanager-id"])}` : "#/taskmanagers"),
        ),
      },
      { title: "Host", text: (s) => s.host ?? "–" },
      { title: "Duration", class: "num", text: (s) => f.duration(s.duration) },
      ...metricColumns<SubtaskDetails>(
        (s) => s.metrics,
        (s) => s.status,
      ),
    ],
    (s) => String(s.subtask),
    "no subtasks",
  );
  const title = h("span", {});
  const range = h("span", { class: "range" });
  const err = h("p", { class: "error" });
  const prev = h("button", { type: "button", "data-action": "prev-page" }, "‹ Previous");
  const next = h("button", { type: "button", "data-action": "next-page" }, "Next ›");
  const pager = h("div", { class: "pager" }, prev, range, next);
  const el = h(
    "div",
    { class: "tab subtasks" },
    section("Vertices (aggregated over their subtasks)", vertices.el),
    h("section", {}, h("h2", {}, "Subtasks of ", title), pager, err, subtasks.el),
  );
  let vid: string | undefined;
  let offset = 0;
  let total = 0;
  let names = new Map<string, string>();

  const load = async () => {
    if (!vid) return;
    const want = vid;
    const at = offset;
    try {
      const d = await api.get<VertexDetails>(`jobs/${jid}/vertices/${want}?offset=${at}&limit=${PAGE_SIZE}`);
      // Another vertex or page was asked for meanwhile (pages clicked through quickly): its answer shows.
      if (want !== vid || at !== offset) return;
      total = d.total ?? d.parallelism ?? d.subtasks.length;
      subtasks.update(d.subtasks);
      setText(err, "");
    } catch (e) {
      setText(err, (e as Error).message);
    }
    renderPager();
  };
  const refresh = throttled(900, load);
  const renderPager = () => {
    const last = Math.min(total, offset + PAGE_SIZE);
    setText(range, total === 0 ? "" : `${f.count(offset + 1)}–${f.count(last)} of ${f.count(total)}`);
    prev.disabled = offset === 0;
    next.disabled = last >= total;
  };
  const go = (o: number) => {
    offset = Math.max(0, o);
    void load();
  };
  prev.addEventListener("click", () => go(offset - PAGE_SIZE));
  next.addEventListener("click", () => go(offset + PAGE_SIZE));

  return {
    el,
    select(v) {
      if (v === vid) return;
      vid = v;
      offset = 0;
      subtasks.update([]);
      setText(title, names.get(v) ?? v);
      void load();
    },
    hide() {
      refresh.cancel();
    },
    job(j: JobDetails) {
      names = new Map(j.vertices.map((v) => [v.id, v.name]));
      vertices.update(j.vertices);
      for (const tr of vertices.table.tBodies[0]!.rows) tr.classList.toggle("selected", tr.dataset.key === vid);
      if (vid) setText(title, names.get(vid) ?? vid);
      refresh.run();
    },
  };
}

function selectableName(td: HTMLTableCellElement, v: JobVertex, onSelect: (vid: string) => void): (v: JobVertex) => void {
  let id = v.id;
  const b = h("button", { type: "button", class: "link", onclick: () => onSelect(id) }, v.name);
  td.append(b);
  return (row) => {
    id = row.id;
    setText(b, row.name);
  };
}
