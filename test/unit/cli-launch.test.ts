/**
 * bin/eddy.js runs a client command (one that only asks the cluster, or usage, or the version) from
 * the client bundle with a V8 code cache, every other command from the ES module bundle, and the
 * compiled modules while a bundle is stale or EDDY_CLI=modules. The code cache is written by the
 * first run, taken by the next ones, and never runs code of an older bundle.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLIENT_BUNDLE, CLIENT_COMMANDS, isClientCommandLine, loadCli } from "../../src/cli/launch.cjs";
import { CLIENT_HANDLERS } from "../../src/cli/client-main.js";
import { COMMANDS } from "../../src/cli/commands.js";
import { CLI_BUNDLE_DIR } from "../../src/core/bundles.cjs";
import { codeCacheFile } from "../../src/core/code-cache.cjs";

const codeCacheModule = fileURLToPath(new URL("../../src/core/code-cache.cjs", import.meta.url));

/** Runs `fn` with a new temporary directory, removed afterwards. */
async function inTempDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "eddy-cli-launch-"));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the client bundle's commands are the client handlers, each a command of the command line", () => {
  assert.deepEqual([...CLIENT_COMMANDS].sort(), Object.keys(CLIENT_HANDLERS).sort());
  const names = new Set(COMMANDS.map((c) => c.name));
  for (const c of CLIENT_COMMANDS) assert.ok(names.has(c), `${c} is a command`);
});

test("client command lines: the client commands, usage and the version; nothing that starts or writes", () => {
  for (const argv of [
    [],
    ["list"],
    ["status", "x", "--json"],
    ["cancel"],
    ["savepoint"],
    ["info"],
    ["rescale"],
    ["--help"],
    ["-h"],
    ["help", "run"],
    ["--version"],
    ["-V"],
  ]) {
    assert.equal(isClientCommandLine(argv), true, argv.join(" "));
  }
  for (const argv of [
    ["cluster"],
    ["jobmanager"],
    ["taskexecutor"],
    ["run", "job.ts"],
    ["plan"],
    ["init", "d"],
    ["secure", "init", "d"],
    ["nope"],
    ["version"], // not a command (--version is)
    ["--nats", "x", "list"],
  ]) {
    assert.equal(isClientCommandLine(argv), false, argv.join(" "));
  }
});

test("a client command runs from the client bundle while it is fresh; others, stale bundles and EDDY_CLI=modules do not", () =>
  inTempDir(async (dist) => {
    const file = (rel: string, text: string, mtimeS: number) => {
      const p = join(dist, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
      utimesSync(p, mtimeS, mtimeS);
    };
    const entry = (kind: string) => `export const kind = "${kind}"; export async function run() {}`;
    file(".tsbuildinfo", "", 1_000);
    file("src/cli/main.js", entry("modules"), 1_000);
    file(`${CLI_BUNDLE_DIR}/main.js`, entry("bundle"), 2_000);
    file(`${CLI_BUNDLE_DIR}/${CLIENT_BUNDLE}`, 'exports.kind = "client"; exports.run = async () => {};', 2_000);
    const kind = async (argv: string[], env: NodeJS.ProcessEnv = {}) => ((await loadCli(dist, argv, env)) as unknown as { kind: string }).kind;
    assert.equal(await kind(["list"]), "client");
    assert.equal(await kind(["--help"]), "client");
    assert.equal(await kind(["cluster"]), "bundle");
    assert.equal(await kind(["list"], { EDDY_CLI: "modules" }), "modules");
    file(".tsbuildinfo", "", 3_000); // tsc changed an output after the build
    assert.equal(await kind(["list"]), "modules", "a stale client bundle is not run");
  }));

test("usage and the version never write the client bundle's code cache; a client command does", () =>
  inTempDir((dist) => {
    const launcher = fileURLToPath(new URL("../../src/cli/launch.cjs", import.meta.url));
    mkdirSync(join(dist, CLI_BUNDLE_DIR), { recursive: true });
    writeFileSync(join(dist, ".tsbuildinfo"), "");
    utimesSync(join(dist, ".tsbuildinfo"), 1_000, 1_000);
    writeFileSync(join(dist, CLI_BUNDLE_DIR, CLIENT_BUNDLE), "exports.run = async () => {};");
    const caches = () => readdirSync(join(dist, CLI_BUNDLE_DIR)).filter((f) => f.endsWith(".cache"));
    const launch = (argv: string[]) => {
      const script = `require(${JSON.stringify(launcher)}).launch(${JSON.stringify(dist)}, ${JSON.stringify(argv)});`;
      const child = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 30_000, env: { ...process.env, EDDY_CLI: "" } });
      assert.equal(child.status, 0, child.stderr);
    };
    for (const argv of [[], ["--help"], ["help", "list"], ["--version"]]) launch(argv);
    assert.deepEqual(caches(), [], "no cache after usage and the version");
    launch(["list"]);
    assert.equal(caches().length, 1, "a client command wrote the cache");
  }));

/** Runs `file` through the code cache loader in a new process, which prints its `value` export. */
function runInChild(file: string) {
  const script = `const m = require(${JSON.stringify(codeCacheModule)}).requireWithCodeCache(${JSON.stringify(file)}); process.stdout.write(String(m.value));`;
  return spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 30_000 });
}

/** What `file`'s `value` export is, loaded in a new process that must exit 0. */
function loadInChild(file: string): string {
  const child = runInChild(file);
  assert.equal(child.status, 0, child.stderr);
  return child.stdout;
}

test("the code cache: written by the first run, taken as it is by the next, replaced when V8 refuses it", () =>
  inTempDir((dir) => {
    const file = join(dir, "bundle.cjs");
    writeFileSync(file, 'function twice(x) { return 2 * x; }\nexports.value = "v" + twice(21);\n');
    const caches = () => readdirSync(dir).filter((f) => f.endsWith(".cache"));
    assert.equal(loadInChild(file), "v42");
    assert.equal(caches().length, 1, "the first run wrote a cache");
    const cache = join(dir, caches()[0] ?? "");
    const written = statSync(cache).ino;
    assert.equal(loadInChild(file), "v42");
    assert.equal(statSync(cache).ino, written, "the second run took the cache and did not write it again");
    writeFileSync(cache, "not a code cache");
    const garbage = statSync(cache).ino;
    assert.equal(loadInChild(file), "v42", "a refused cache: the bundle compiles as without one");
    assert.notEqual(statSync(cache).ino, garbage, "and the refused cache is replaced");
    assert.ok(statSync(cache).size > 100);
    assert.deepEqual(
      readdirSync(dir).filter((f) => !f.endsWith(".cache") && f !== "bundle.cjs"),
      [],
      "no temporary file is left",
    );
  }));

test("a bundle's text beyond ASCII reads as written, in strings and regular expressions", () =>
  inTempDir((dir) => {
    const file = join(dir, "bundle.cjs");
    writeFileSync(file, 'exports.value = ["µs", /(ns|µs)$/.test("5µs"), "→"].join(" ");\n');
    assert.equal(loadInChild(file), "µs true →");
    assert.equal(loadInChild(file), "µs true →", "from the cache too");
  }));

test("the code cache of an older bundle of the same length never runs: a rebuilt bundle is compiled again", () =>
  inTempDir((dir) => {
    const file = join(dir, "bundle.cjs");
    writeFileSync(file, 'exports.value = "old";\n');
    utimesSync(file, 1_000, 1_000);
    assert.equal(loadInChild(file), "old");
    writeFileSync(file, 'exports.value = "new";\n'); // same length: V8's own check would take the old cache
    utimesSync(file, 2_000, 2_000);
    assert.equal(loadInChild(file), "new");
    assert.equal(loadInChild(file), "new");
  }));

test("a cache that cannot be written: the bundle still runs, the exit code is the command's, no file is left", () =>
  inTempDir((dir) => {
    const file = join(dir, "bundle.cjs");
    writeFileSync(file, 'exports.value = "ran"; process.exitCode = 3;\n');
    mkdirSync(codeCacheFile(file)); // the cache's name taken by a directory: the rename fails, even for root
    const child = runInChild(file);
    assert.equal(child.stdout, "ran");
    assert.equal(child.stderr, "");
    assert.equal(child.status, 3);
    assert.deepEqual(readdirSync(dir).sort(), ["bundle.cjs", basename(codeCacheFile(file))].sort());
  }));
