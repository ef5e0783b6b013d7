/**
 * The throughput tab: records per second of each vertex over the last minutes
 * (`/jobs/:jid/throughput`), one SVG polyline per vertex. A source is drawn by what it emits, every
 * other vertex by what it receives.
 */
import { api } from "./api.js";
import { h, setAttr, setText, svg } from "./dom.js";
import * as f from "./format.js";
import { poll } from "./poll.js";
import type { Tab } from "./tab.js";
import type { JobDetails, Throughput } from "./types.js";

const W = 900;
const H = 280;
const PAD = { left: 56, right: 12, top: 12, bottom: 26 };
const REFRESH_MS = 2_000;
const MIN_SPAN_MS = 60_000;
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

export function throughputTab(jid: string): Tab {
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": "throughput chart" });
  const grid = svg("g", { class: "grid-lines" });
  const lines = svg("g", {});
  chart.append(grid, lines);
  const legend = h("ul", { class: "legend" });
  const err = h("p", { class: "error" });
  const el = h("div", { class: "tab throughput" }, err, chart, legend);
  const series = new Map<string, { line: SVGPolylineElement; label: HTMLElement }>();
  let names = new Map<string, string>();
  let stop: (() => void) | undefined;

  const draw = (t: Throughput) => {
    const entries = Object.entries(t.vertices ?? {});
    let t0 = Number.POSITIVE_INFINITY;
    let t1 = 0;
    let max = 1;
    const values = entries.map(([vid, pts]) => {
      const useOut = pts.every((p) => (p.in ?? 0) === 0);
      const ys = pts.map((p) => ({ t: p.t, v: (useOut ? p.out : p.in) ?? 0 }));
      for (const p of ys) {
        t0 = Math.min(t0, p.t);
        t1 = Math.max(t1, p.t);
        max = Math.max(max, p.v);
      }
      return { vid, useOut, ys };
    });
    // At least a minute wide, so that a job that just started does not stretch its first seconds over the chart.
    if (t1 - t0 < MIN_SPAN_MS) t0 = t1 - MIN_SPAN_MS;
    const x = (tt: number) => PAD.left + ((tt - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
    const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
    grid.replaceChildren(
      ...[0, 0.5, 1].flatMap((q) => [
        svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(q * max), y2: y(q * max) }),
        svg("text", { x: PAD.left - 6, y: y(q * max) + 4, "text-anchor": "end" }, f.rate(q * max)),
      ]),
      svg("text", { x: PAD.left, y: H - 6 }, t1 > 0 ? f.time(t0) : ""),
      svg("text", { x: W - PAD.right, y: H - 6, "text-anchor": "end" }, t1 > 0 ? f.time(t1) : ""),
    );
    values.forEach(({ vid, useOut, ys }, i) => {
      let s = series.get(vid);
      if (!s) {
        const color = COLORS[i % COLORS.length]!;
        s = { line: svg("polyline", { fill: "none", stroke: color, "stroke-width": 2, "data-vertex-id": vid }), label: h("span", {}) };
        lines.append(s.line);
        // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
        const swatch = h("span", { class: "swatch" });
        swatch.style.background = color;
        legend.append(h("li", {}, swatch, s.label));
        series.set(vid, s);
      }
      setAttr(s.line, "points", ys.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" "));
      const lastV = ys.at(-1)?.v;
      setText(s.label, `${names.get(vid) ?? vid} (${useOut ? "out" : "in"}) ${f.rate(lastV)}`);
    });
  };

  return {
    el,
    job(j: JobDetails) {
      names = new Map(j.vertices.map((v) => [v.id, v.name]));
    },
    show() {
      stop?.();
      stop = poll(REFRESH_MS, async () => {
        try {
          draw(await api.get<Throughput>(`jobs/${jid}/throughput`));
          setText(err, "");
        } catch (e) {
          setText(err, (e as Error).message);
        }
      });
    },
    hide() {
      stop?.();
      stop = undefined;
    },
  };
}
