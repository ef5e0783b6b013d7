/**
 * Eddy as a package in a project of one's own: `npm pack` of this repository, `eddy init` of a new
 * project, the tarball installed into it; the project's strict `tsc` passes against the package's
 * types (`eddy`, `eddy/testing`), its scaffolded test runs the job on the in-process mini cluster, and
 * `npx eddy run` from the project runs the job on a process cluster.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { packageRoot } from "../../src/cluster/paths.js";
import { runEddy } from "../helpers/eddy-process.js";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { committedLines } from "../helpers/keyed-counter.js";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "eddy-installable-"));
const project = join(work, "my-job");
let tarball = "";

/** Runs `cmd args` in `cwd` (bounded); its output is in the error when it fails. */
async function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 180_000): Promise<string> {
  // The project's own `node --test` runs as a top-level run, not as a child of this one.
  const { NODE_TEST_CONTEXT: _child, ...inherited } = process.env;
  try {
    const r = await run(cmd, args, {
      cwd,
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...inherited, npm_config_update_notifier: "false", ...env },
    });
    return r.stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

before(async () => {
  // The build is there already (the tests run on it): the tarball packs it as it is.
  const out = await sh("npm", ["pack", "--ignore-scripts", "--pack-destination", work], packageRoot());
  tarball = join(work, out.trim().split("\n").pop()!);
  const init = await runEddy(["init", project]);
  assert.equal(init.code, 0, init.stderr);
  await sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], project);
});

after(() => rmSync(work, { recursive: true, force: true }));

test("the package ships the SDK, client, testing and runtime entry points with their types, and no tests or sources", async () => {
  const files = (await sh("tar", ["-tzf", tarball], work)).split("\n");
  for (const f of ["sdk/index", "client/index", "testing/index", "runtime/api"]) {
    assert.ok(files.includes(`package/dist/src/${f}.js`), `${f}.js`);
    assert.ok(files.includes(`package/dist/src/${f}.d.ts`), `${f}.d.ts`);
  }
  assert.ok(files.includes("package/bin/eddy.js") && files.includes("package/nats.conf") && files.includes("package/schemas/jobgraph.schema.json"));
  assert.ok(files.includes("package/dist/web-ui/index.html"), "the dashboard");
  assert.ok(!files.some((f) => f.startsWith("package/dist/test/") || f.startsWith("package/src/") || f.startsWith("package/test/")), "no tests, no sources");
});

test("eddy init scaffolds a project whose strict tsc passes against the installed package's types", async () => {
  const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  assert.ok(pkg.dependencies.eddy, "eddy is a dependency");
  assert.equal(JSON.parse(readFileSync(join(project, "tsconfig.json"), "utf8")).compilerOptions.strict, true);
  await sh(join(project, "node_modules", ".bin", "tsc"), ["-p", "."], project);
  // A type error in the user's job is caught against the package's types.
  writeFileSync(join(project, "src", "broken.ts"), 'import { StreamExecutionEnvironment } from "eddy";\nnew StreamExecutionEnvironment(42);\n');
  await assert.rejects(sh(join(project, "node_modules", ".bin", "tsc"), ["-p", "."], project), /broken\.ts/);
  rmSync(join(project, "src", "broken.ts"));
});

test("the scaffolded test runs the job on eddy/testing's mini cluster (npm test)", async () => {
  const out = await sh("npm", ["test"], project);
  assert.match(out, /^# pass 1$/m);
  assert.match(out, /^# fail 0$/m);
});

test("npx eddy run from the project runs its job on a cluster", async () => {
  let cluster: ProcessCluster | undefined;
  try {
    cluster = await startProcessCluster({ taskExecutors: 1, slots: 2 });
    const input = join(work, "words.txt");
    writeFileSync(input, "one two two\n");
    // The project's own `eddy` (node_modules/.bin), as `npx eddy` finds it.
    const out = await sh(join(project, "node_modules", ".bin", "eddy"), ["run", "src/job.ts", "--", "--input", input, "--output", join(work, "out")], project, {
      EDDY_NATS_URL: cluster.natsUrl,
      EDDY_PREFIX: cluster.prefix,
    });
    assert.match(out, /^Job [0-9a-f]{32} FINISHED$/m);
    assert.deepEqual(committedLines(join(work, "out")).sort(), ["one 1", "two 2"]);
  } finally {
    await cluster?.stop();
  }
});
