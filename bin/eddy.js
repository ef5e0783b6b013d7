#!/usr/bin/env node
// The `eddy` command, CommonJS (bin/package.json) so that a client command loads no ES module at
// all. The implementation is compiled TypeScript in dist/ (built by `npm ci`, which runs the
// `prepare` script, or by `npm run build`), run from the bundles the build makes while they are
// fresh (src/cli/launch.cts says which).
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const dist = join(__dirname, "..", "dist");
const launcher = join(dist, "src", "cli", "launch.cjs");
if (existsSync(launcher)) {
  require(launcher).launch(dist, process.argv.slice(2));
} else {
  process.stderr.write(
    `eddy: ${launcher} is missing: Eddy is not built yet.\n` + `Run 'npm ci' (installs and builds) or 'npm run build' in ${join(__dirname, "..")}\n`,
  );
  // exitCode, not exit(): the message is flushed before the process ends, even into a pipe.
  process.exitCode = 2;
}
