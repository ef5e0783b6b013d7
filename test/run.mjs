#!/usr/bin/env node
// Eddy's test runner (`npm test`, after tsc): runs every dist/test/**/*.test.js with node's test
// runner, two files at a time, each file bounded by a timeout. The output is TAP and ends with the
// runner's summary (`# pass N`, `# fail N`); the exit code is non-zero when anything failed.
//
//   node test/run.mjs [FILTER...]   only files whose path contains one of the FILTERs
//                                   (test/unit/: no nats-server needed; test/integration/: real servers;
//                                   test/soak/: the short chaos soak)
//   EDDY_TEST_TIMEOUT_MS            per-file (and per-test) timeout, default 300000
//   EDDY_TEST_CONCURRENCY           files run at once, default 2
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const testDir = join(root, "dist", "test");

/**
 * Every *.test.js below dir, sorted, skipping node_modules and compiled tests whose .ts source is gone
 * (tsc never deletes outputs: a test moved to another folder would otherwise run twice).
 */
function collect(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== "node_modules") out.push(...collect(p));
    else if (e.isFile() && e.name.endsWith(".test.js") && existsSync(sourceOf(p))) out.push(p);
  }
  return out;
}

/** The TypeScript source of a compiled test file. */
function sourceOf(compiled) {
  return join(root, relative(join(root, "dist"), compiled)).replace(/\.js$/, ".ts");
}

if (!existsSync(testDir)) {
  console.error(`test/run.mjs: ${testDir} is missing; build first (npx tsc -p .)`);
  process.exit(2);
}
const filters = process.argv.slice(2);
// The short soak first (the longest file: it runs beside the others), then unit tests, so fast
// failures show early, then everything else.
const all = collect(testDir);
const folder = (f) => relative(testDir, f).split(sep)[0];
const isUnit = (f) => folder(f) === "unit";
const rank = (f) => (folder(f) === "soak" ? 0 : isUnit(f) ? 1 : 2);
const files = all
  .filter((f) => filters.length === 0 || filters.some((x) => relative(root, f).includes(x)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
if (files.length === 0) {
  console.error(`test/run.mjs: no test files${filters.length ? ` matching ${filters.join(", ")}` : ""} under ${relative(root, testDir)}`);
  process.exit(1);
}

const timeoutMs = Number(process.env.EDDY_TEST_TIMEOUT_MS) || 300_000;
// Two files at a time: an integration test mostly waits for its processes, timers and I/O (alone, a
// file keeps about 0.7 of a core busy), so on two cores the suite takes about 8 minutes instead of 12.
// No test depends on the machine's speed, so the load of a neighbour must not fail one.
const concurrency = Number(process.env.EDDY_TEST_CONCURRENCY) || 2;
const args = ["--test", `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, "--test-reporter=tap", ...files.map((f) => relative(root, f))];
const env = { ...process.env };
// Tests start their own NATS servers; a test that forgets to pass its URL must fail, not reach a
// NATS server that happens to run on the default port.
env.EDDY_NATS_URL = "nats://127.0.0.1:1";
env.EDDY_LOG_LEVEL ??= "warn";
// Unit tests need no nats-server (those that do live in test/integration): run alone, any that tries
// to start one fails on this binary instead of passing only where nats-server is installed.
if (files.every(isUnit)) env.EDDY_NATS_SERVER = "/nonexistent/unit-tests-start-no-nats-server";
const child = spawn(process.execPath, args, { cwd: root, env, stdio: "inherit" });
const forward = (sig) => child.kill(sig);
process.on("SIGINT", forward);
process.on("SIGTERM", forward);
child.on("exit", (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
