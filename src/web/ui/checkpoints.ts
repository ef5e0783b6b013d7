/**
 * The checkpoints tab: counts, the latest completed, savepoint, failed and restored checkpoint, the
 * last ten checkpoints as a table whose duration, size and acknowledgements are drawn as bars (so a
 * slow or large one stands out at a glance), and the checkpointing configuration.
 */
import { api } from "./api.js";
import { statCards } from "./cards.js";
import { h, replaceChildren, setText, stateBadge, updateStateBadge } from "./dom.js";
import * as f from "./format.js";
import { section } from "./jobs-table.js";
import type { Tab } from "./tab.js";
import { type Column, KeyedTable } from "./table.js";
import type { CheckpointConfig, CheckpointEntry, CheckpointStats } from "./types.js";

const HISTORY = 10;

/** A cell with a bar of `value / max()` and the value's text beside it. */
function barCell(value: (c: CheckpointEntry) => number | undefined, text: (c: CheckpointEntry) => string, max: () => number): Column<CheckpointEntry>["build"] {
  return (td, c) => {
    const fill = h("div", { class: "fill" });
    const label = h("span", {});
    td.append(h("div", { class: "bar" }, fill), label);
    const upd = (row: CheckpointEntry) => {
      const v = value(row) ?? 0;
      const w = `${max() > 0 ? Math.max(0, Math.min(100, (100 * v) / max())) : 0}%`;
      if (fill.style.width !== w) fill.style.width = w;
      setText(label, text(row));
    };
    upd(c);
    return upd;
  };
}

export function checkpointsTab(jid: string): Tab {
  const cards = statCards([
    ["completed", "completed"],
    ["in_progress", "in progress"],
    ["failed", "failed"],
    ["restored", "restored"],
    ["total", "triggered"],
  ]);
  let maxDuration = 0;
  let maxSize = 0;
  const history = new KeyedTable<CheckpointEntry>(
    [
      { title: "ID", class: "num", text: (c) => String(c.id) },
      {
        title: "Status",
        build: (td, c) => {
          const b = stateBadge(c.status);
          td.append(b);
          return (r) => updateStateBadge(b, r.status);
        },
      },
      { title: "Type", text: (c) => (c.is_savepoint ? "savepoint" : "checkpoint") },
      { title: "Triggered", text: (c) => f.time(c.trigger_timestamp) },
      {
        title: "Duration",
        class: "barcol",
        build: barCell(
          (c) => c.end_to_end_duration,
          (c) => f.duration(c.end_to_end_duration),
          () => maxDuration,
        ),
      },
      {
        title: "State size",
        class: "barcol",
        build: barCell(
          (c) => c.state_size,
          (c) => f.bytes(c.state_size),
          () => maxSize,
        ),
      },
      {
        title: "Acknowledged",
        class: "barcol",
        build: barCell(
          (c) => (c.num_subtasks ? (c.num_acknowledged_subtasks ?? 0) / c.num_subtasks : 0),
          (c) => `${c.num_acknowledged_subtasks ?? 0}/${c.num_subtasks ?? 0}`,
          () => 1,
        ),
      },
    ],
    (c) => String(c.id),
    "no checkpoint yet",
  );
  const latest = h("dl", { class: "facts" });
  const config = h("dl", { class: "facts" });
  const err = h("p", { class: "error" });
  const el = h(
    "div",
    { class: "tab checkpoints" },
    err,
    cards.el,
    section("Latest", latest),
    section(`Last ${HISTORY} checkpoints`, history.el),
    section("Configuration", config),
  );
  const show = (c: CheckpointStats) => {
    for (const k of ["completed", "in_progress", "failed", "restored", "total"] as const) cards.set(k, f.count(c.counts?.[k] ?? 0));
    const last = [...(c.history ?? [])].sort((a, b) => b.id - a.id).slice(0, HISTORY);
    maxDuration = Math.max(0, ...last.map((x) => x.end_to_end_duration ?? 0));
    maxSize = Math.max(0, ...last.map((x) => x.state_size ?? 0));
    history.update(last);
    const l = c.latest ?? {};
    const describe = (x: CheckpointEntry | null | undefined) =>
      x
        ? `#${x.id} at ${f.time(x.latest_ack_timestamp ?? x.trigger_timestamp)}, ${f.duration(x.end_to_end_duration)}, ${f.bytes(x.state_size)}${x.external_path ? `, ${x.external_path}` : ""}`
        : "none";
    facts(latest, [
      ["Completed", describe(l.completed)],
      ["Savepoint", describe(l.savepoint)],
      [
        "Failed",
        l.failed
          ? `#${l.failed.id} at ${f.time(l.failed.failure_timestamp ?? l.failed.trigger_timestamp)}${l.failed.failure_message ? `: ${l.failed.failure_message}` : ""}`
          : "none",
      ],
      [
        "Restored",
        l.restored
          ? `#${l.restored.id}${l.restored.is_savepoint ? " (savepoint)" : ""} at ${f.time(l.restored.restore_timestamp)}${l.restored.external_path ? `, ${l.restored.external_path}` : ""}`
          : "none",
      ],
    ]);
  };
  let configLoaded = false;
  return {
    el,
    checkpoints: show,
    show() {
      api
        .get<CheckpointStats>(`jobs/${jid}/checkpoints`)
        .then((c) => {
          show(c);
          setText(err, "");
        })
        .catch((e: Error) => setText(err, e.message));
      if (configLoaded) return;
      api
        .get<CheckpointConfig>(`jobs/${jid}/checkpoints/config`)
        .then((c) => {
          configLoaded = true;
          const ext = c.externalization;
          facts(config, [
            ["Mode", c.mode ?? "–"],
            ["Interval", c.interval === undefined ? "–" : c.interval > 0 && c.interval < 9e15 ? f.duration(c.interval) : "off"],
            ["Timeout", f.duration(c.timeout)],
            ["Minimum pause", f.duration(c.min_pause)],
            ["Maximum concurrent", c.max_concurrent === undefined ? "–" : String(c.max_concurrent)],
            ["Retained on cancel", ext ? (ext.enabled ? (ext.delete_on_cancellation ? "no" : "yes") : "no") : "–"],
          ]);
        })
        .catch((e: Error) => facts(config, [["Configuration", e.message]]));
    },
  };
}

/** Rewrites a definition list (a few entries; rebuilt only when a text changed). */
function facts(dl: HTMLElement, items: Array<[string, string]>): void {
  if (dl.dataset.key === JSON.stringify(items)) return;
  dl.dataset.key = JSON.stringify(items);
  replaceChildren(dl, ...items.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}
