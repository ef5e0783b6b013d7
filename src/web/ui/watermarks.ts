/** The watermarks tab: each vertex's current input watermark (the minimum over its subtasks) and how far it is behind now. */
import * as f from "./format.js";
import { h } from "./dom.js";
import type { Tab } from "./tab.js";
import { KeyedTable } from "./table.js";
import type { JobDetails, JobVertex } from "./types.js";

export function watermarksTab(): Tab {
  let now = Date.now();
  const wm = (v: JobVertex) => v.metrics?.["current-input-watermark"];
  const table = new KeyedTable<JobVertex>(
    [
      { title: "Vertex", class: "name", text: (v) => v.name },
      { title: "Parallelism", class: "num", text: (v) => String(v.parallelism) },
      { title: "Input watermark (min over subtasks)", text: (v) => f.watermark(wm(v), now) },
      {
        title: "Behind now",
        class: "num",
        text: (v) => {
          const w = wm(v);
          return w === null || w === undefined || w <= -9e15 || w >= 9e15 ? "–" : f.duration(Math.max(0, now - w));
        },
      },
    ],
    (v) => v.id,
    "no vertices",
  );
  const el = h(
    "div",
    { class: "tab" },
    h("p", { class: "dim" }, "A vertex without event-time input (a source, or a job without watermarks) shows no watermark."),
    table.el,
  );
  return {
    el,
    job(j: JobDetails) {
      now = j.now ?? Date.now();
      table.update(j.vertices);
    },
  };
}
