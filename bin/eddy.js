#!/usr/bin/env node
// The `eddy` command. The implementation is compiled TypeScript in dist/ (built by `npm ci`,
// which runs the `prepare` script, or by `npm run build`), run from the one-file bundle the build
// makes while it is fresh (dist/src/core/bundles.js says when).
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const dist = fileURLToPath(new URL("../dist", import.meta.url));
const mainPath = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
if (existsSync(mainPath)) {
  const { cliEntry } = await import(new URL("../dist/src/core/bundles.js", import.meta.url).href);
  const { run } = await import(pathToFileURL(cliEntry(dist)).href);
  await run(process.argv.slice(2));
} else {
  process.stderr.write(
    `eddy: ${mainPath} is missing: Eddy is not built yet.\n` +
      `Run 'npm ci' (installs and builds) or 'npm run build' in ${fileURLToPath(new URL("..", import.meta.url))}\n`,
  );
  // exitCode, not exit(): the message is flushed before the process ends, even into a pipe.
  process.exitCode = 2;
}
