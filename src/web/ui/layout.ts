/**
 * The layered layout of a job graph (Sugiyama style, left to right): a vertex's layer is the longest
 * path from a source to it, vertices within a layer are ordered by the mean position of their
 * neighbours (a few sweeps both ways, which removes most crossings of the graphs jobs have), and
 * each layer is centred on the tallest. Pure: no DOM, so it is tested without a browser.
 */

export interface LayoutInput {
  id: string;
  /** Ids of the vertices that feed this one. */
  inputs: readonly string[];
}

export interface LayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
  /** Horizontal space between layers. */
  gapX: number;
  /** Vertical space between the vertices of a layer. */
  gapY: number;
  /** Space around the whole drawing. */
  margin: number;
}

export interface PlacedNode {
  id: string;
  layer: number;
  /** Position within the layer, from the top. */
  index: number;
  /** Top-left corner. */
  x: number;
  y: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  /** Right middle of the source and left middle of the target. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface Layout {
  nodes: Map<string, PlacedNode>;
  edges: PlacedEdge[];
  width: number;
  height: number;
}

const SWEEPS = 4;

export function layeredLayout(vertices: readonly LayoutInput[], o: LayoutOptions): Layout {
  const ids = new Set(vertices.map((v) => v.id));
  // Inputs naming no vertex of the graph (and self loops) are left out: the drawing shows what exists.
  const inputs = new Map(vertices.map((v) => [v.id, [...new Set(v.inputs)].filter((i) => ids.has(i) && i !== v.id)]));
  const outputs = new Map<string, string[]>(vertices.map((v) => [v.id, []]));
  for (const [id, ins] of inputs) for (const i of ins) outputs.get(i)!.push(id);

  const layerOf = longestPathLayers(vertices, inputs);
  const layerCount = Math.max(0, ...layerOf.values()) + 1;
  const layers: string[][] = Array.from({ length: vertices.length === 0 ? 0 : layerCount }, () => []);
  for (const v of vertices) layers[layerOf.get(v.id)!]!.push(v.id);

  const pos = new Map<string, number>();
  const index = () => {
    for (const l of layers) l.forEach((id, i) => pos.set(id, i));
  };
  index();
  for (let s = 0; s < SWEEPS; s++) {
    const down = s % 2 === 0;
    const order = down ? layers.keys() : [...layers.keys()].reverse();
    for (const li of order) {
      const neighbours = down ? inputs : outputs;
      const layer = layers[li]!;
      const bary = new Map(layer.map((id) => [id, mean(neighbours.get(id)!.map((n) => pos.get(n)!)) ?? pos.get(id)!]));
      layer.sort((a, b) => bary.get(a)! - bary.get(b)! || pos.get(a)! - pos.get(b)!);
      layer.forEach((id, i) => pos.set(id, i));
    }
  }

  const tallest = Math.max(0, ...layers.map((l) => l.length));
  const stepY = o.nodeHeight + o.gapY;
  const nodes = new Map<string, PlacedNode>();
  layers.forEach((layer, li) => {
    const offset = ((tallest - layer.length) * stepY) / 2;
    layer.forEach((id, i) => {
      nodes.set(id, { id, layer: li, index: i, x: o.margin + li * (o.nodeWidth + o.gapX), y: o.margin + offset + i * stepY });
    });
  });
  const edges: PlacedEdge[] = [];
  for (const v of vertices) {
    const to = nodes.get(v.id)!;
    for (const i of inputs.get(v.id)!) {
      const from = nodes.get(i)!;
      edges.push({ from: i, to: v.id, x1: from.x + o.nodeWidth, y1: from.y + o.nodeHeight / 2, x2: to.x, y2: to.y + o.nodeHeight / 2 });
    }
  }
  const width = layers.length === 0 ? 2 * o.margin : 2 * o.margin + layers.length * o.nodeWidth + (layers.length - 1) * o.gapX;
  const height = tallest === 0 ? 2 * o.margin : 2 * o.margin + tallest * o.nodeHeight + (tallest - 1) * o.gapY;
  return { nodes, edges, width, height };
}

/** Layer = longest path from a source; a cycle (never in a valid JobGraph) is broken where it is found. */
function longestPathLayers(vertices: readonly LayoutInput[], inputs: Map<string, string[]>): Map<string, number> {
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return -1;
    visiting.add(id);
    let l = 0;
    for (const i of inputs.get(id)!) l = Math.max(l, visit(i) + 1);
    visiting.delete(id);
    layer.set(id, l);
    return l;
  };
  for (const v of vertices) visit(v.id);
  return layer;
}

function mean(xs: number[]): number | undefined {
  return xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length;
}
