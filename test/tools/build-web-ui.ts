/**
 * Builds the dashboard (src/web/ui) into dist/web-ui: index.html and assets/app.js + assets/app.css,
 * one ES module (with the stylesheet main.ts imports) bundled by esbuild, minified, with no import from anywhere but this repository (the
 * page works offline). Run by `npm run build` (and so by `prepare` and `npm test`) after tsc;
 * type checking is `tsc -p src/web/ui` (DOM types), run by the same script before this.
 */
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../src/cluster/paths.js";

const root = packageRoot();
const src = join(root, "src/web/ui");
const out = join(root, "dist/web-ui");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
const result = await build({
  entryPoints: { app: join(src, "main.ts") },
  outdir: join(out, "assets"),
  entryNames: "[name]",
  bundle: true,
  format: "esm",
  target: ["es2022"],
  minify: true,
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
});
copyFileSync(join(src, "index.html"), join(out, "index.html"));
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`web-ui: dist/web-ui (${Math.round(bytes / 1024)} KiB)`);
