/**
 * Bundles the `eddy` command (dist/src/cli/main.js and everything it imports, dependencies included)
 * into dist/bundle/: `main.js` and the chunks its commands load on demand (esbuild's code
 * splitting, so `eddy --help` loads none of the daemons). Every Eddy process starts from it:
 * a JobManager is ready in about 0.35 s instead of 0.6 s, which `eddy cluster` pays three times on
 * two cores. Run by `npm run build` after tsc; bin/eddy.js runs it only while it is fresh
 * (src/core/bundles.ts).
 */
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../src/cluster/paths.js";
import { CLI_BUNDLE_DIR } from "../../src/core/bundles.js";

const root = packageRoot();
const outdir = join(root, "dist", CLI_BUNDLE_DIR);
rmSync(outdir, { recursive: true, force: true }); // chunks of an older build would pile up
const result = await build({
  entryPoints: [join(root, "dist/src/cli/main.js")],
  outdir,
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // esbuild (which bundles users' job files) finds its native binary from its own install path.
  external: ["esbuild"],
  // Dependencies written as CommonJS call require(); an ES module has none of its own.
  banner: { js: 'import { createRequire as __eddyCreateRequire } from "node:module"; const require = __eddyCreateRequire(import.meta.url);' },
  logLevel: "warning",
  metafile: true,
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js")).length;
console.log(`eddy command: dist/${CLI_BUNDLE_DIR}/ (${Object.keys(result.metafile.inputs).length} modules in ${files} files, ${Math.round(bytes / 1024)} KiB)`);
