/** Eddy's own package.json: where the package root is and which version runs. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cachedRoot: string | undefined;

/**
 * The package root: the nearest directory above this module whose package.json is Eddy's.
 * Works from `src/` and from the compiled `dist/src/`.
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        const name = (JSON.parse(readFileSync(pj, "utf8")) as { name?: string }).name;
        if (name === "eddy") return (cachedRoot = dir);
      } catch {
        // not ours; keep climbing
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find Eddy's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

let cachedVersion: string | undefined;

/** The package version from package.json (read once: every discoverable actor reports it). */
export function packageVersion(): string {
  cachedVersion ??= (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version?: string }).version ?? "0.0.0";
  return cachedVersion;
}
