/**
 * Bundles the slot worker (dist/actors/task/slot-worker.js and everything it imports, dependencies
 * included) into dist/actors/task/slot-worker.bundle.js. A slot's thread starts with its first task
 * and again after a failover; loading one file instead of some 270 modules makes that start about
 * three times faster. Run by `npm run build` after tsc. The TaskExecutor uses the bundle only while it
 * is newer than every compiled module (a `tsc` alone leaves it stale), see slot-worker-url.ts.
 */
import { build } from "esbuild";
import { join } from "node:path";
import { packageRoot } from "../../src/cluster/paths.js";
import { SLOT_WORKER_BUNDLE } from "../../actors/taskexecutor/slot-worker-url.js";

const root = packageRoot();
const result = await build({
  entryPoints: [join(root, "dist/actors/task/slot-worker.js")],
  outfile: join(root, "dist/actors/task", SLOT_WORKER_BUNDLE),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Dependencies written as CommonJS call require(); an ES module has none of its own.
  banner: { js: 'import { createRequire as __eddyCreateRequire } from "node:module"; const require = __eddyCreateRequire(import.meta.url);' },
  logLevel: "warning",
  metafile: true,
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`slot worker: dist/actors/task/${SLOT_WORKER_BUNDLE} (${Object.keys(result.metafile.inputs).length} modules, ${Math.round(bytes / 1024)} KiB)`);
