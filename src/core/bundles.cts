/**
 * Which code an `eddy` process runs: a bundle that `npm run build` makes with esbuild (loading one
 * file is some three times faster than the hundreds of modules in it, which counts at every process
 * start), or the compiled modules themselves. A bundle runs only while it is at least as new as the
 * last `tsc` run that changed an output (`dist/.tsbuildinfo`, which such a run rewrites), so a `tsc`
 * after the last build never runs stale code; one stat each, not a walk of `dist/`.
 *
 * CommonJS, so that bin/eddy.js's launcher (src/cli/launch.cts) can load it without Node's ES module
 * loader.
 */
import { statSync } from "node:fs";
import { join } from "node:path";

/** The directory below `dist/` of the `eddy` command's bundle (`main.js` and its chunks). */
export const CLI_BUNDLE_DIR = "bundle";

/** The compiler's build-info file, relative to `dist/`. */
const BUILD_INFO = ".tsbuildinfo";

/** True when `bundle` exists and is not older than the last compilation into `dist`. */
export function bundleIsFresh(bundle: string, dist: string): boolean {
  try {
    return statSync(bundle).mtimeMs >= statSync(join(dist, BUILD_INFO)).mtimeMs;
  } catch {
    return false; // no bundle, or no build info to compare with: the modules are what was built
  }
}

/**
 * The ES module that runs every command: the command's bundle while it is fresh and EDDY_CLI is not
 * `modules` (profiles tell modules apart by file), else the compiled `dist/src/cli/main.js`.
 */
export function cliEntry(dist: string, env: NodeJS.ProcessEnv = process.env): string {
  const bundle = join(dist, CLI_BUNDLE_DIR, "main.js");
  return env.EDDY_CLI !== "modules" && bundleIsFresh(bundle, dist) ? bundle : join(dist, "src", "cli", "main.js");
}
