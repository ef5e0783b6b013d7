/**
 * Which file a slot's thread runs: the bundle `npm run build` makes of the slot worker (a cold slot
 * thread starts about three times faster from it, which counts at every failover onto a cold slot),
 * or the compiled modules themselves: while the bundle is stale (src/core/bundles.cts) and when
 * EDDY_SLOT_WORKER=modules (profiles attribute time by module file).
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bundleIsFresh } from "../../src/core/bundles.cjs";
import { packageRoot } from "../../src/core/package.js";

/** The bundle's file name, next to slot-worker.js. */
export const SLOT_WORKER_BUNDLE = "slot-worker.bundle.js";

let chosen: URL | undefined;

/** The slot worker's URL for this process (decided once). */
export function slotWorkerUrl(): URL {
  if (chosen) return chosen;
  const dist = join(packageRoot(), "dist");
  const task = join(dist, "actors", "task");
  chosen = pathToFileURL(join(task, slotWorkerKind(dist) === "bundle" ? SLOT_WORKER_BUNDLE : "slot-worker.js"));
  return chosen;
}

/** `bundle` when `dist/actors/task/<bundle>` is fresh and EDDY_SLOT_WORKER is not `modules`; else `modules`. */
export function slotWorkerKind(dist: string, env: NodeJS.ProcessEnv = process.env): "bundle" | "modules" {
  if (env.EDDY_SLOT_WORKER === "modules") return "modules";
  return bundleIsFresh(join(dist, "actors", "task", SLOT_WORKER_BUNDLE), dist) ? "bundle" : "modules";
}
