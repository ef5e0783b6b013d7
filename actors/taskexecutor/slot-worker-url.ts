/**
 * Which file a slot's thread runs: the bundle `npm run build` makes of the slot worker (one file loads
 * about three times faster than the modules it holds, which counts at every failover onto a cold
 * slot), or the compiled modules themselves. The bundle is used only while it is newer than every
 * compiled module of the package, so a `tsc` run after the last build never runs stale code, and not
 * when EDDY_SLOT_WORKER=modules (profiles attribute time by module file).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The bundle's file name, next to slot-worker.js. */
export const SLOT_WORKER_BUNDLE = "slot-worker.bundle.js";

const MODULES = new URL("../task/slot-worker.js", import.meta.url);
const BUNDLE = new URL(`../task/${SLOT_WORKER_BUNDLE}`, import.meta.url);

let chosen: URL | undefined;

/** The slot worker's URL for this process (decided once). */
export function slotWorkerUrl(): URL {
  // dist/actors/task/ -> dist/
  chosen ??= slotWorkerKind(dirname(dirname(dirname(fileURLToPath(BUNDLE))))) === "bundle" ? BUNDLE : MODULES;
  return chosen;
}

/**
 * `bundle` when `dist/actors/task/<bundle>` exists, no compiled module under `dist/src` or
 * `dist/actors` is newer, and EDDY_SLOT_WORKER is not `modules`; else `modules`.
 */
export function slotWorkerKind(dist: string, env: NodeJS.ProcessEnv = process.env): "bundle" | "modules" {
  if (env.EDDY_SLOT_WORKER === "modules") return "modules";
  const bundle = join(dist, "actors", "task", SLOT_WORKER_BUNDLE);
  if (!existsSync(bundle)) return "modules";
  const built = statSync(bundle).mtimeMs;
  for (const dir of ["src", "actors"]) if (newestModule(join(dist, dir)) > built) return "modules";
  return "bundle";
}

function newestModule(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestModule(p));
    else if (e.name.endsWith(".js") && e.name !== SLOT_WORKER_BUNDLE) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}
