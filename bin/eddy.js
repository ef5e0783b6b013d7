#!/usr/bin/env node
// The `eddy` command. The implementation is compiled TypeScript in dist/ (built by `npm ci`,
// which runs the `prepare` script, or by `npm run build`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const mainPath = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
if (existsSync(mainPath)) {
  const { run } = await import(new URL("../dist/src/cli/main.js", import.meta.url).href);
  await run(process.argv.slice(2));
} else {
  process.stderr.write(
    `eddy: ${mainPath} is missing: Eddy is not built yet.\n` +
      `Run 'npm ci' (installs and builds) or 'npm run build' in ${fileURLToPath(new URL("..", import.meta.url))}\n`,
  );
  // exitCode, not exit(): the message is flushed before the process ends, even into a pipe.
  process.exitCode = 2;
}
