/**
 * A flame graph (icicle: callers above callees) of a reduced call tree as a standalone SVG, boxes
 * colored by stage, with a legend. Boxes narrower than a pixel or deeper than {@link MAX_DEPTH} are left
 * out; hovering a box shows its frame and time (the SVG `<title>`).
 */
import { STAGES, type Stage } from "./stages.js";
import type { TreeNode } from "./cpuprofile.js";

const WIDTH = 1600;
const ROW = 17;
/** Deeper frames are left out (schema compilers recurse hundreds of levels; the data path is shallower). */
const MAX_DEPTH = 40;
const LEGEND_ROW = 18;

const PALETTE: Record<Stage, string> = {
  source: "#8dd3c7",
  tokenize: "#b3de69",
  "partition (keyBy hash, key groups)": "#fb8072",
  "record writer / buffers": "#fdb462",
  serialization: "#e31a1c",
  "MessagePort hand-off": "#bc80bd",
  "NATS send/receive (+ socket I/O)": "#80b1d3",
  deserialization: "#ff7f00",
  "input gate (channels, union, alignment)": "#ffed6f",
  "keyed state / keyed operator": "#bebada",
  "windows & timers": "#ccebc5",
  "user functions": "#33a02c",
  "operator chain & task loop": "#fccde5",
  sink: "#a6cee3",
  "control plane (RPC, metrics, checkpoints)": "#d9d9d9",
  GC: "#6a3d9a",
  "other (V8, Node, unattributed)": "#eeeeee",
};

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The SVG text of `tree`'s flame graph under `title`. */
export function flameSvg(tree: TreeNode, title: string): string {
  const scale = WIDTH / Math.max(1, tree.totalUs);
  const boxes: string[] = [];
  let depth = 0;
  const walk = (n: TreeNode, x: number, d: number): void => {
    const w = n.totalUs * scale;
    if (w < 1 || d > MAX_DEPTH) return;
    depth = Math.max(depth, d);
    const y = 40 + d * ROW;
    const fill = n.stage ? PALETTE[n.stage] : "#f5f5f5";
    const pct = ((100 * n.totalUs) / tree.totalUs).toFixed(1);
    const label = w > 40 ? `<text x="${(x + 3).toFixed(1)}" y="${y + 12}">${esc(n.name.slice(0, Math.floor(w / 6.5)))}</text>` : "";
    boxes.push(
      `<g><title>${esc(n.name)} — ${(n.totalUs / 1000).toFixed(1)} ms, ${pct}%${n.stage ? ` (${esc(n.stage)})` : ""}</title>` +
        `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW - 1}" fill="${fill}" stroke="#fff" stroke-width="0.5"/>${label}</g>`,
    );
    let cx = x;
    for (const c of [...n.children.values()].sort((a, b) => b.totalUs - a.totalUs)) {
      walk(c, cx, d + 1);
      cx += c.totalUs * scale;
    }
  };
  walk(tree, 0, 0);
  const legendY = 40 + (depth + 2) * ROW;
  const legend = STAGES.map((s, i) => {
    const x = (i % 4) * (WIDTH / 4);
    const y = legendY + Math.floor(i / 4) * LEGEND_ROW;
    return `<rect x="${x}" y="${y}" width="14" height="12" fill="${PALETTE[s]}" stroke="#999"/><text x="${x + 20}" y="${y + 11}">${esc(s)}</text>`;
  });
  const height = legendY + Math.ceil(STAGES.length / 4) * LEGEND_ROW + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="monospace" font-size="11">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="4" y="24" font-size="15">${esc(title)}</text>`,
    ...boxes,
    ...legend,
    "</svg>",
    "",
  ].join("\n");
}
