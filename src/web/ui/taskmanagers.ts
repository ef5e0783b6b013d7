/**
 * #/taskmanagers: every TaskExecutor with host, pid, slots, memory, CPU and the time since its last
 * heartbeat; #/taskmanagers/<id>: one TaskExecutor's metrics and the tasks in each of its slots.
 */
import { api } from "./api.js";
import { statCards } from "./cards.js";
import { h, replaceChildren, setText } from "./dom.js";
import * as f from "./format.js";
import { section } from "./jobs-table.js";
import { poll } from "./poll.js";
import { KeyedTable, linkCell } from "./table.js";
import type { TaskManager, TaskManagerDetails, TaskManagers } from "./types.js";
import type { View } from "./view.js";

const REFRESH_MS = 2_000;

export function taskManagersTable(): KeyedTable<TaskManager> {
  return new KeyedTable<TaskManager>(
    [
      {
        title: "TaskExecutor",
        class: "mono",
        build: linkCell(
          (t) => t.id,
          (t) => `#/taskmanagers/${encodeURIComponent(t.id)}`,
        ),
      },
      { title: "Host", text: (t) => t.host ?? "–" },
      { title: "PID", class: "num", text: (t) => (t.pid ? String(t.pid) : "–") },
      { title: "Slots (free/total)", class: "num", text: (t) => `${t.freeSlots}/${t.slotsNumber}` },
      { title: "CPU cores", class: "num", text: (t) => f.count(t.hardware?.cpuCores) },
      { title: "Memory", class: "num", text: (t) => f.bytes(t.hardware?.physicalMemory) },
      { title: "Last heartbeat", class: "num", text: (t) => f.heartbeatAge(t.timeSinceLastHeartbeat) },
    ],
    (t) => t.id,
    "no TaskExecutors registered",
  );
}

export function taskManagersView(): View {
  const table = taskManagersTable();
  const err = h("p", { class: "error" });
  const el = h("div", { class: "view taskmanagers" }, h("h1", {}, "TaskExecutors"), err, table.el);
  const stop = poll(REFRESH_MS, async () => {
    try {
      table.update((await api.get<TaskManagers>("taskmanagers")).taskmanagers);
      setText(err, "");
    } catch (e) {
      setText(err, (e as Error).message);
    }
  });
  return { el, live: {}, dispose: stop };
}

export function taskManagerView(id: string): View {
  const cards = statCards([
    ["slots", "slots (free/total)"],
    ["cpu", "CPU load"],
    ["heap", "heap used"],
    ["rss", "RSS"],
    ["lag", "event-loop lag"],
    ["heartbeat", "last heartbeat"],
  ]);
  const info = h("p", { class: "dim" });
  const err = h("p", { class: "error" });
  const slots = h("div", { class: "slots" });
  const el = h(
    "div",
    { class: "view taskmanager" },
    h("h1", {}, "TaskExecutor ", h("span", { class: "mono" }, id)),
    info,
    err,
    cards.el,
    section("Slots", slots),
  );
  let slotsKey = "";
  const stop = poll(REFRESH_MS, async () => {
    let t: TaskManagerDetails;
    try {
      t = await api.get<TaskManagerDetails>(`taskmanagers/${encodeURIComponent(id)}`);
      setText(err, "");
    } catch (e) {
      setText(err, (e as Error).message);
      return;
    }
    const m = t.metrics ?? {};
    setText(info, `host ${t.host ?? "–"} · pid ${t.pid ?? "–"} · ${f.count(t.hardware?.cpuCores)} CPU cores · ${f.bytes(t.hardware?.physicalMemory)} memory`);
    cards.set("slots", `${t.freeSlots}/${t.slotsNumber}`);
    cards.set("cpu", f.percent(m["Status.CPU.Load"]));
    cards.set("heap", f.bytes(m["Status.Memory.Heap.Used"]));
    cards.set("rss", f.bytes(m["Status.Memory.RSS"]));
    cards.set("lag", m["Status.EventLoop.LagMs"] === undefined ? "–" : f.duration(m["Status.EventLoop.LagMs"]));
    cards.set("heartbeat", f.heartbeatAge(t.timeSinceLastHeartbeat));
    // The slot table is small: rebuilt only when a task or a lag in it changed.
    const key = JSON.stringify([t.slots ?? [], (t.slots ?? []).map((s) => m[`Status.EventLoop.Slot${s.index}.LagMs`])]);
    if (key === slotsKey) return;
    slotsKey = key;
    const list = t.slots ?? [];
    replaceChildren(
      slots,
      list.length === 0
        ? h("p", { class: "dim" }, "no slot information")
        : h(
            "table",
            { class: "grid" },
            h("thead", {}, h("tr", {}, h("th", {}, "Slot"), h("th", {}, "Job"), h("th", {}, "Tasks"), h("th", { class: "num" }, "Event-loop lag"))),
            h(
              "tbody",
              {},
              ...list.map((s) =>
                h(
                  "tr",
                  {},
                  h("td", { class: "num" }, String(s.index)),
                  h("td", { class: "mono" }, s.jobId ? h("a", { href: `#/jobs/${s.jobId}` }, s.jobId) : h("span", { class: "dim" }, "free")),
                  h("td", {}, s.tasks.length === 0 ? "–" : s.tasks.map((x) => x.name).join(", ")),
                  h("td", { class: "num" }, f.duration(m[`Status.EventLoop.Slot${s.index}.LagMs`])),
                ),
              ),
            ),
          ),
    );
  });
  return { el, live: {}, dispose: stop };
}
