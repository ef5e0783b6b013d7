/**
 * Reads V8 .cpuprofile files (written by `node --cpu-prof`, one per process and worker thread) and
 * reduces them: self time per stage (stages.ts) within a time window, and the call tree of the window
 * for the flame graph. Sample timestamps are V8's monotonic clock, the same clock as
 * `process.hrtime` in every process of the machine, so one window cuts all the files alike.
 */
import { readFileSync } from "node:fs";
import { frameStage, STAGES, type CallFrame, type Stage } from "./stages.js";

interface ProfileNode {
  id: number;
  callFrame: CallFrame & { lineNumber?: number };
  children?: number[];
}

/** The JSON of a .cpuprofile file. */
export interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds, monotonic clock. */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A window on the monotonic clock, µs (`process.hrtime.bigint() / 1000n`). */
export interface Window {
  fromUs: number;
  toUs: number;
}

/** Microseconds now on the clock of the profiles' timestamps. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** A call-tree node of the reduced profile (self and total µs in the window). */
export interface TreeNode {
  name: string;
  stage: Stage | null;
  selfUs: number;
  totalUs: number;
  children: Map<string, TreeNode>;
}

/** What one profile spent in a window. */
export interface ProfileReduction {
  /** µs per stage (idle excluded). */
  byStage: Map<Stage, number>;
  /** Non-idle µs. */
  busyUs: number;
  /** Idle µs (the thread waited for work). */
  idleUs: number;
  /** Call tree of the non-idle samples (root named after the thread). */
  tree: TreeNode;
  /** Self µs per stage and frame ("stage NUL function file"). */
  byFrame: Map<string, { us: number; stage: Stage }>;
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
}

const frameLabel = (f: CallFrame): string => {
  if (f.url === "") return f.functionName || "(anonymous)";
  const file = f.url.replace(/^.*\/(dist|node_modules)\//, "").replace(/^file:\/\//, "");
  return `${f.functionName || "(anonymous)"} ${file}`;
};

export function newTree(name: string): TreeNode {
  return { name, stage: null, selfUs: 0, totalUs: 0, children: new Map() };
}

/** Self time per stage and the call tree of `p`'s samples within `w` (the whole profile without one). */
export function reduceProfile(p: CpuProfile, w: Window | undefined, rootName: string): ProfileReduction {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const stageOf = new Map<number, Stage>();
  const stage = (id: number): Stage => {
    const known = stageOf.get(id);
    if (known !== undefined) return known;
    const own = frameStage(byId.get(id)!.callFrame);
    const pid = parent.get(id);
    const s = own ?? (pid === undefined ? "other (V8, Node, unattributed)" : stage(pid));
    stageOf.set(id, s);
    return s;
  };
  const selfUs = new Map<number, number>();
  let t = p.startTime;
  let idleUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    // A sample stands for the interval up to the next one.
    const dt = p.timeDeltas[i + 1] ?? 0;
    if (w && (t < w.fromUs || t > w.toUs)) continue;
    const id = p.samples[i]!;
    if (byId.get(id)!.callFrame.functionName === "(idle)") idleUs += dt;
    else selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const byStage = new Map<Stage, number>();
  let busyUs = 0;
  const tree = newTree(rootName);
  const byFrame = new Map<string, { us: number; stage: Stage }>();
  for (const [id, us] of selfUs) {
    const s = stage(id);
    const key = `${s}\u0000${frameLabel(byId.get(id)!.callFrame)}`;
    const f = byFrame.get(key);
    if (f) f.us += us;
    else byFrame.set(key, { us, stage: s });
    byStage.set(s, (byStage.get(s) ?? 0) + us);
    busyUs += us;
    // The path root → id, without V8's (root) node.
    const path: number[] = [];
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) path.push(x);
    path.reverse();
    let node = tree;
    node.totalUs += us;
    for (const x of path.slice(1)) {
      const label = frameLabel(byId.get(x)!.callFrame);
      let c = node.children.get(label);
      if (!c) node.children.set(label, (c = { ...newTree(label), stage: stage(x) }));
      c.totalUs += us;
      node = c;
    }
    node.selfUs += us;
  }
  return { byStage, busyUs, idleUs, tree, byFrame };
}

/** Adds `from`'s stage times into `into`. */
export function addStages(into: Map<Stage, number>, from: Map<Stage, number>): void {
  for (const [s, us] of from) into.set(s, (into.get(s) ?? 0) + us);
}

/** Stages in table order with their µs (zeros included). */
export function stageRows(m: Map<Stage, number>): Array<[Stage, number]> {
  return STAGES.map((s) => [s, m.get(s) ?? 0]);
}
