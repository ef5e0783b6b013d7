/**
 * The job graph as an SVG DAG: one box per vertex (name, parallelism, state, records in/out per
 * second, back-pressure level and busy ratio) and one arrow per input labelled with its ship
 * strategy. The drawing is built once per graph shape; live updates change only texts and colours.
 * Its size does not grow with parallelism: a vertex of p=1,600 is one box like a vertex of p=1.
 */
import { setAttr, setText, svg } from "./dom.js";
import * as f from "./format.js";
import { layeredLayout } from "./layout.js";
import type { JobDetails, JobVertex } from "./types.js";

const NODE_W = 240;
const NODE_H = 108;
const OPTS = { nodeWidth: NODE_W, nodeHeight: NODE_H, gapX: 70, gapY: 28, margin: 16 };
/** Characters of a name line at 13px in a box of NODE_W (a longer name takes two lines, then is cut). */
const NAME_CHARS = 26;

interface NodeParts {
  box: SVGRectElement;
  status: SVGTextElement;
  rates: SVGTextElement;
  pressure: SVGTextElement;
  strip: SVGRectElement;
}

export class JobGraph {
  readonly el: SVGSVGElement;
  private shape = "";
  private parts = new Map<string, NodeParts>();
  private selected: string | undefined;

  constructor(private readonly onSelect: (vertexId: string) => void) {
    this.el = svg("svg", { class: "job-graph", role: "img", "aria-label": "job graph" });
  }

  /** Draws (when the graph's shape changed) and updates every vertex from `job`. */
  update(job: JobDetails): void {
    const nodes = job.plan?.nodes?.length ? job.plan.nodes : job.vertices.map((v) => ({ id: v.id, inputs: [] }));
    const shape = JSON.stringify(nodes.map((n) => [n.id, (n.inputs ?? []).map((i) => [i.id, i.ship_strategy])]));
    const byId = new Map(job.vertices.map((v) => [v.id, v]));
    if (shape !== this.shape) {
      this.shape = shape;
      this.draw(nodes, byId);
    }
    for (const [id, p] of this.parts) {
      const v = byId.get(id);
      if (v) this.fill(p, v);
    }
  }

  /** Marks `vertexId` as the one whose subtasks are shown. */
  select(vertexId: string | undefined): void {
    this.selected = vertexId;
    for (const [id, p] of this.parts) setAttr(p.box, "data-selected", id === vertexId ? "true" : null);
  }

  private draw(nodes: NonNullable<JobDetails["plan"]>["nodes"], byId: Map<string, JobVertex>): void {
    const layout = layeredLayout(
      nodes.map((n) => ({ id: n.id, inputs: (n.inputs ?? []).map((i) => i.id) })),
      OPTS,
    );
    this.el.replaceChildren();
    this.parts.clear();
    this.el.setAttribute("viewBox", `0 0 ${layout.width} ${layout.height}`);
    this.el.setAttribute("width", String(layout.width));
    this.el.setAttribute("height", String(layout.height));
    this.el.append(
      svg(
        "defs",
        {},
        svg(
          "marker",
          { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
          svg("path", { class: "arrow-head", d: "M0,0 L10,5 L0,10 z" }),
        ),
      ),
    );
    const strategy = new Map<string, string>();
    for (const n of nodes) for (const i of n.inputs ?? []) strategy.set(`${i.id}>${n.id}`, i.ship_strategy ?? "");
    const edges = svg("g", { class: "edges" });
    for (const e of layout.edges) {
      const mx = (e.x1 + e.x2) / 2;
      edges.append(svg("path", { d: `M${e.x1},${e.y1} C${mx},${e.y1} ${mx},${e.y2} ${e.x2 - 2},${e.y2}`, "marker-end": "url(#arrow)" }));
      const label = strategy.get(`${e.from}>${e.to}`);
      if (label) edges.append(svg("text", { x: mx, y: (e.y1 + e.y2) / 2 - 5, "text-anchor": "middle", class: "edge-label" }, label));
    }
    this.el.append(edges);
    for (const n of nodes) {
      const at = layout.nodes.get(n.id)!;
      const v = byId.get(n.id);
      const name = v?.name ?? n.description ?? n.id;
      const [line1, line2] = nameLines(name);
      const box = svg("rect", { class: "node-box", width: NODE_W, height: NODE_H, rx: 6 });
      const strip = svg("rect", { class: "bp-strip", width: 6, height: NODE_H, rx: 3 });
      const status = svg("text", { x: 16, y: 60, class: "node-status" });
      const rates = svg("text", { x: 16, y: 79, class: "node-rates" });
      const pressure = svg("text", { x: 16, y: 98, class: "node-pressure" });
      const g = svg(
        "g",
        { class: "node", transform: `translate(${at.x},${at.y})`, "data-vertex-id": n.id, "data-name": name, tabindex: 0 },
        svg("title", {}, `${name}\n${n.id}`),
        box,
        strip,
        svg("text", { x: 16, y: 21, class: "node-name" }, svg("tspan", { x: 16 }, line1), svg("tspan", { x: 16, dy: 16 }, line2)),
        status,
        rates,
        pressure,
      );
      g.addEventListener("click", () => this.onSelect(n.id));
      g.addEventListener("keydown", (ev) => (ev as KeyboardEvent).key === "Enter" && this.onSelect(n.id));
      this.el.append(g);
      const p = { box, status, rates, pressure, strip };
      this.parts.set(n.id, p);
      if (v) this.fill(p, v);
    }
    this.select(this.selected);
  }

  private fill(p: NodeParts, v: JobVertex): void {
    const m = v.metrics ?? {};
    setText(p.status, `p=${v.parallelism} · ${v.status}`);
    // An ended vertex's last rate is not a rate: it shows none.
    const running = v.status === "RUNNING";
    const rate = (x: number | undefined) => (running ? f.rate(x) : "–");
    setText(p.rates, `in ${rate(m["read-records-per-second"])} · out ${rate(m["write-records-per-second"])}`);
    const level = v["backpressure-level"] ?? f.backPressureLevel(m["backpressure-ratio"]);
    setText(p.pressure, `back-pressure ${level ? level.toUpperCase() : "–"} ${f.percent(m["backpressure-ratio"])} · busy ${f.percent(m["busy-ratio"])}`);
    setAttr(p.strip, "data-level", level ?? null);
    setAttr(p.box, "data-state", v.status);
    setAttr(p.rates, "data-out", String(m["write-records-per-second"] ?? ""));
    setAttr(p.rates, "data-in", String(m["read-records-per-second"] ?? ""));
  }
}

/** A vertex name in at most two lines of NAME_CHARS, broken after a space or punctuation where one is near, the rest cut with an ellipsis. */
export function nameLines(name: string): [string, string] {
  if (name.length <= NAME_CHARS) return [name, ""];
  // The last space, "(", "," or "/" in the first line's reach: a chained name breaks at " -> ", a call after its "(".
  let brk = -1;
  for (let i = Math.min(NAME_CHARS, name.length) - 1; i > NAME_CHARS / 2 && brk < 0; i--) if (" (,/".includes(name[i]!)) brk = i;
  const cut = brk > 0 ? brk + 1 : NAME_CHARS;
  const rest = name.slice(cut);
  return [name.slice(0, cut).trimEnd(), rest.length > NAME_CHARS ? `${rest.slice(0, NAME_CHARS - 1)}…` : rest];
}
