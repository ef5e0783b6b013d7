/**
 * The parallelism a job gets from the slots it has (Flink's SlotSharingSlotAllocator): vertices of
 * one slot sharing group share slots (subtask i of each in the group's i-th slot), so a group needs
 * as many slots as its largest parallelism. Each group first gets its lower bound, then the
 * remaining slots are handed out one at a time to the groups that still want more (fairly), and
 * each vertex runs at its group's slot count clamped to its own bounds.
 */

/** A vertex's parallelism bounds (Flink's JobVertexResourceRequirements.Parallelism) and sharing group. */
export interface VertexRequirement {
  id: string;
  slotSharingGroup: string;
  /** Least parallelism the job may run the vertex at (>= 1). */
  lower: number;
  /** Most parallelism wanted (<= maxParallelism). */
  upper: number;
  maxParallelism: number;
}

/** Vertex id → parallelism. */
export type VertexParallelism = Map<string, number>;

function groupsOf(vertices: readonly VertexRequirement[]): Map<string, VertexRequirement[]> {
  const groups = new Map<string, VertexRequirement[]>();
  for (const v of vertices) {
    const g = groups.get(v.slotSharingGroup);
    if (g) g.push(v);
    else groups.set(v.slotSharingGroup, [v]);
  }
  return groups;
}

/** Slots the job needs at every vertex's lower bound (`"lower"`: sufficient) or upper bound (`"upper"`: desired). */
export function requiredSlots(vertices: readonly VertexRequirement[], bound: "lower" | "upper"): number {
  let n = 0;
  for (const g of groupsOf(vertices).values()) n += Math.max(...g.map((v) => Math.min(v[bound], v.maxParallelism)));
  return n;
}

/**
 * The parallelism of every vertex with `slots` slots, or undefined when they do not cover every
 * vertex's lower bound. `forwardEdges` (source, target) pairs end up with equal parallelism (the
 * smaller one), as a forward exchange needs.
 */
export function determineParallelism(
  vertices: readonly VertexRequirement[],
  slots: number,
  forwardEdges: ReadonlyArray<readonly [string, string]> = [],
): VertexParallelism | undefined {
  const groups = [...groupsOf(vertices).entries()].map(([name, members]) => ({
    name,
    members,
    min: Math.max(...members.map((v) => v.lower)),
    max: Math.max(...members.map((v) => Math.min(v.upper, v.maxParallelism))),
    slots: 0,
  }));
  let left = slots;
  for (const g of groups) {
    g.slots = g.min;
    left -= g.min;
  }
  if (left < 0) return undefined;
  for (let progress = true; left > 0 && progress; ) {
    progress = false;
    for (const g of groups) {
      if (left === 0) break;
      if (g.slots < g.max) {
        g.slots++;
        left--;
        progress = true;
      }
    }
  }
  const out: VertexParallelism = new Map();
  for (const g of groups) for (const v of g.members) out.set(v.id, Math.max(v.lower, Math.min(v.upper, v.maxParallelism, g.slots)));
  for (let changed = true; changed; ) {
    changed = false;
    for (const [a, b] of forwardEdges) {
      const pa = out.get(a);
      const pb = out.get(b);
      if (pa === undefined || pb === undefined || pa === pb) continue;
      const p = Math.min(pa, pb);
      out.set(a, p);
      out.set(b, p);
      changed = true;
    }
  }
  return out;
}

/**
 * Whether going from `current` to `next` is worth a restart (Flink's
 * EnforceMinimalIncreaseRescalingController): some vertex loses subtasks, or gains at least
 * `minIncrease`.
 */
export function shouldRescale(current: VertexParallelism, next: VertexParallelism | undefined, minIncrease: number): boolean {
  if (!next) return false;
  for (const [id, p] of current) {
    const change = (next.get(id) ?? p) - p;
    if (change < 0 || change >= Math.max(1, minIncrease)) return true;
  }
  return false;
}
