/**
 * The watermarks tab: each vertex's input watermark (the minimum over its subtasks), how far it trails
 * now, and which subtask holds it back with the spread to the most advanced one
 * (`/jobs/:jid/vertices/:vid/watermarks`, read only for vertices that have a watermark, at most every 2 s).
 */
import { api } from "./api.js";
import { h } from "./dom.js";
import * as f from "./format.js";
import { type Tab, throttled } from "./tab.js";
import { KeyedTable } from "./table.js";
import { NO_WATERMARK, type Spread, watermarkSpread } from "./watermark-spread.js";
import type { JobDetails, JobVertex } from "./types.js";

const REFRESH_MS = 2_000;

export function watermarksTab(jid: string): Tab {
  let now = Date.now();
  let vertices: JobVertex[] = [];
  const spreads = new Map<string, Spread>();
  const wm = (v: JobVertex) => v.metrics?.["current-input-watermark"];
  const has = (v: JobVertex) => {
    const w = wm(v);
    return w !== null && w !== undefined && w > NO_WATERMARK && w < -NO_WATERMARK;
  };
  const table = new KeyedTable<JobVertex>(
    [
      { title: "Vertex", class: "name", text: (v) => v.name },
      { title: "Parallelism", class: "num", text: (v) => String(v.parallelism) },
      { title: "Input watermark (min over subtasks)", text: (v) => f.watermark(wm(v), now) },
      { title: "Behind now", class: "num", text: (v) => (has(v) ? f.duration(Math.max(0, now - wm(v)!)) : "–") },
      { title: "Slowest subtask", class: "num", text: (v) => (has(v) && spreads.has(v.id) ? String(spreads.get(v.id)!.slowest) : "–") },
      { title: "Spread (max − min)", class: "num", text: (v) => (has(v) && spreads.has(v.id) ? f.duration(spreads.get(v.id)!.spread) : "–") },
    ],
    (v) => v.id,
    "no vertices",
  );
  const loadSpreads = throttled(REFRESH_MS, async () => {
    await Promise.all(
      vertices.filter(has).map(async (v) => {
        const s = watermarkSpread(await api.get<Array<{ id: string; value: string }>>(`jobs/${jid}/vertices/${v.id}/watermarks`));
        if (s) spreads.set(v.id, s);
        else spreads.delete(v.id);
      }),
    );
    table.update(vertices);
  });
  const el = h(
    "div",
    { class: "tab" },
    h("p", { class: "dim" }, "A vertex without event-time input (a source, or a job without watermarks) shows no watermark."),
    table.el,
  );
  return {
    el,
    hide() {
      loadSpreads.cancel();
    },
    job(j: JobDetails) {
      now = j.now ?? Date.now();
      vertices = j.vertices;
      table.update(vertices);
      loadSpreads.run();
    },
  };
}
