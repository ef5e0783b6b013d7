/**
 * Bundles the `eddy` command (dist/src/cli/main.js and everything it imports, dependencies included)
 * into dist/bundle/:
 * - `main.js` and the chunks its commands load on demand (esbuild's code splitting, so `eddy --help`
 *   loads none of the daemons). Every Eddy process starts from it: a JobManager is ready in about
 *   0.35 s instead of 0.6 s, which `eddy cluster` pays three times on two cores.
 * - `client.cjs`: the commands that ask a running cluster (src/cli/client-main.ts) in one CommonJS
 *   file, which bin/eddy.js loads with a V8 code cache; with it `eddy list` answers some 40 ms
 *   sooner than from the ES modules, for which Node 20 keeps no compiled code.
 * Run by `npm run build` after tsc; bin/eddy.js runs them only while they are fresh
 * (src/cli/launch.cts, src/core/bundles.cts).
 */
import { build, type BuildOptions } from "esbuild";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../src/cluster/paths.js";
import { CLI_BUNDLE_DIR } from "../../src/core/bundles.cjs";
import { CLIENT_BUNDLE } from "../../src/cli/launch.cjs";

const root = packageRoot();
const outdir = join(root, "dist", CLI_BUNDLE_DIR);
rmSync(outdir, { recursive: true, force: true }); // chunks of an older build would pile up
/** What both bundles are built with. */
const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  // esbuild (which bundles users' job files) finds its native binary from its own install path.
  external: ["esbuild"],
  logLevel: "warning",
  metafile: true,
} satisfies BuildOptions;
const result = await build({
  ...common,
  entryPoints: [join(root, "dist/src/cli/main.js")],
  outdir,
  splitting: true,
  format: "esm",
  // Dependencies written as CommonJS call require(); an ES module has none of its own.
  banner: { js: 'import { createRequire as __eddyCreateRequire } from "node:module"; const require = __eddyCreateRequire(import.meta.url);' },
});
const clientFile = join(outdir, CLIENT_BUNDLE);
const client = await build({
  ...common,
  entryPoints: [join(root, "dist/src/cli/client-main.js")],
  outfile: clientFile,
  format: "cjs",
  // Less to read at every start; names are kept, so a stack trace still names its functions.
  minifyWhitespace: true,
  minifySyntax: true,
  // A CommonJS file has no import.meta: the one module that asks for its own URL gets the bundle's.
  define: { "import.meta.url": "__eddyImportMetaUrl" },
  banner: { js: 'const __eddyImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  // The client decodes a few small replies: msgpackr without its native string decoder, whose
  // loading (a probe for the platform's library) costs more than it would save.
  plugins: [
    {
      name: "msgpackr-without-native",
      setup(b) {
        b.onResolve({ filter: /^msgpackr$/ }, () => ({ path: join(root, "node_modules", "msgpackr", "index.js") }));
      },
    },
  ],
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js")).length;
console.log(`eddy command: dist/${CLI_BUNDLE_DIR}/ (${Object.keys(result.metafile.inputs).length} modules in ${files} files, ${Math.round(bytes / 1024)} KiB)`);
const clientBytes = Object.values(client.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(
  `eddy client commands: dist/${CLI_BUNDLE_DIR}/${CLIENT_BUNDLE} (${Object.keys(client.metafile.inputs).length} modules, ${Math.round(clientBytes / 1024)} KiB)`,
);
