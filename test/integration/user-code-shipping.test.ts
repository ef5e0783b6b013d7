/**
 * Shipping user code, end to end with real processes: `eddy run` in a client directory bundles a job
 * file that imports a local helper module and exports a custom invokable calling a user function
 * through `ctx.userCode`; the TaskExecutor process runs in an empty directory and has never seen the
 * file. Two jobs whose bundles carry different versions of one helper module run side by side; a
 * bundle is fetched once per TaskExecutor (later tasks hit the cache); missing and tampered bundles
 * are refused with their codes; a main that cannot run on a worker fails the job with its cause;
 * application mode runs main on the cluster (with its failures and timeout); `eddy plan` prints the
 * JobGraph.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Objm } from "@nats-io/obj";
import { EddyError, ErrorCode } from "../../src/core/errors.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { validateJobGraph, type JobGraphSpec } from "../../src/jobgraph/index.js";
import { bundleRefOf } from "../../src/blob/index.js";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";
import { startProcessCluster, awaitJobResult, type ProcessCluster } from "../helpers/process-cluster.js";
import { runEddy, spawnEddy } from "../helpers/eddy-process.js";
import type { JobOverview } from "../../schemas/dispatcher-api.js";

const root = mkdtempSync(join(tmpdir(), "eddy-ship-test-"));
/** The TaskExecutor's working directory: empty, and stays so. */
const teDir = join(root, "te");
const outDir = join(root, "out");
let cluster: ProcessCluster;

/** The job: sequence -> (chained) custom `test.tagger` applying the user function "tag" -> text file. */
const JOB = `
import { readFileSync } from "node:fs";
import { USER_FUNCTIONS, type InvokableFactory, type TaskContext } from "eddy/runtime";
import { jobArg, requireJobArg } from "eddy";
import { tag } from "./helper";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";

/** A custom operator of the actor SDK: applies the job's function config.fn to every record. */
const tagger: InvokableFactory = {
  name: "test.tagger",
  kind: "operator",
  description: "emits fn(record), fn being the job's user function config.fn",
  validate(config, vertexId) {
    if (typeof config.fn !== "string") throw new Error("vertex " + vertexId + ": config.fn must name a user function");
  },
  create(config) {
    return {
      async invoke(ctx: TaskContext) {
        const fn = ctx.userCode!.fn<(x: unknown) => unknown>(config.fn as string);
        for (let b = await ctx.input.next(); b; b = await ctx.input.next()) {
          for (const r of b.records) ctx.output.emit(fn(r));
          ctx.input.recycle(b);
          if (!ctx.output.isAvailable()) await ctx.output.available();
        }
      },
    };
  },
};
export const invokables = [tagger];

export default (args: string[], ctx: { parallelism?: number }) => {
  const p = ctx.parallelism ?? 2;
  const n = Number(requireJobArg(args, "--n"));
  // Not deterministic on purpose when --settings is given: the file exists only where main first ran.
  const settings = jobArg(args, "--settings");
  const prefix = settings ? String(JSON.parse(readFileSync(settings, "utf8")).prefix) : "";
  if (args.includes("--boom")) throw new Error("main refuses --boom");
  if (args.includes("--hang")) for (;;) {}
  const spec = {
    name: "tagged " + n,
    vertices: [
      { id: "numbers", invokable: "source.sequence", parallelism: p, config: { from: 1, to: n, ratePerSecond: Number(jobArg(args, "--rate") ?? 0) } },
      { id: "tag", invokable: "test.tagger", parallelism: p, config: { fn: "tag" } },
      { id: "out", invokable: "sink.textFile", parallelism: 1, config: { path: requireJobArg(args, "--output") } },
    ],
    edges: [
      { source: "numbers", target: "tag", partitioner: "forward" },
      { source: "tag", target: "out", partitioner: "rebalance" },
    ],
  };
  return Object.assign(spec, { [USER_FUNCTIONS]: new Map([["tag", (x: unknown) => prefix + tag(x)]]) });
};
`;

/** A client directory holding the job and its helper module of `version`. */
function clientDir(name: string, version: string): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, "job.ts"), JOB);
  writeFileSync(
    join(d, "helper.ts"),
    `export const VERSION = ${JSON.stringify(version)};\nexport function tag(x: unknown): string {\n  return VERSION + ":" + String(x);\n}\n`,
  );
  return d;
}

const v1 = clientDir("client-v1", "v1");
const v2 = clientDir("client-v2", "v2");

function env(cwd: string) {
  return { natsUrl: cluster.natsUrl, prefix: cluster.prefix, cwd };
}

/** Every line of the committed part files in `dir`, sorted. */
function outputLines(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith("part-"))
    .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter(Boolean))
    .sort();
}

function expected(version: string, n: number, prefix = ""): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${version}:${i + 1}`).sort();
}

/** "bundle fetched" log lines of the TaskExecutor for bundle `id`. */
function fetchesOf(id: string): number {
  return cluster.taskExecutors[0]!.stderrLines.filter((l) => l.includes('"bundle fetched"') && l.includes(id)).length;
}

/** The bundle id `eddy plan` reports for the job in `dir`. */
async function planOf(dir: string, args: string[]): Promise<JobGraphSpec> {
  const r = await runEddy(["plan", "job.ts", "--parallelism", "2", "--", ...args], { cwd: dir, natsUrl: "nats://127.0.0.1:1" });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as JobGraphSpec;
}

before(async () => {
  mkdirSync(teDir);
  mkdirSync(outDir);
  cluster = await startProcessCluster({
    taskExecutors: 1,
    slots: 4,
    taskExecutorCwd: teDir,
    taskExecutorLogLevel: "info",
    // Over 3x what the mains that return need (a whole `eddy run --application` of the job takes
    // about 0.6 s, also with one core busy).
    env: { EDDY_APPLICATION_TIMEOUT_MS: "2000" },
  });
});

after(async () => {
  await cluster?.stop();
  rmSync(root, { recursive: true, force: true });
});

test("eddy plan prints the JobGraph as JSON, bundle and custom invokable included, without a cluster", async () => {
  const spec = await planOf(v1, ["--n", "5", "--output", "/tmp/x"]);
  const graph = validateJobGraph(spec, builtinRegistry);
  assert.deepEqual(
    graph.vertices.map((v) => [v.id, v.invokable, v.parallelism]),
    [
      ["numbers", "source.sequence", 2],
      ["tag", "test.tagger", 2],
      ["out", "sink.textFile", 1],
    ],
  );
  assert.match(spec.bundle!.id, /^[0-9a-f]{64}$/);
  assert.deepEqual(spec.bundle!.invokables, [{ name: "test.tagger", kind: "operator" }]);
  assert.deepEqual(spec.config, { args: ["--n", "5", "--output", "/tmp/x"], parallelism: 2 });
  // A job that does not build: its code, exit 1.
  const bad = await runEddy(["plan", "job.ts", "--", "--output", "/tmp/x"], { cwd: v1 });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /error MalformedRequest: missing job argument --n/);
});

test("a job file that exists only on the client runs on a TaskExecutor started in an empty directory, with its helper module, custom invokable and user function", async () => {
  const out = join(outDir, "first");
  const { id } = (await planOf(v1, ["--n", "300", "--output", out])).bundle!;
  const r = await runEddy(["run", "job.ts", "--parallelism", "2", "--", "--n", "300", "--output", out], { ...env(v1), timeoutMs: 90_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /Job [0-9a-f]{32} FINISHED/);
  assert.deepEqual(outputLines(out), expected("v1", 300));
  assert.deepEqual(readdirSync(teDir), [], "the TaskExecutor's directory stays empty: nothing was read from or written to it");
  // Three tasks (two chained source+tagger subtasks and the sink) on this TaskExecutor, one download.
  assert.equal(fetchesOf(id), 1);

  // The same job again: the bundle is neither uploaded nor fetched again.
  const out2 = join(outDir, "again");
  const again = await runEddy(["run", "job.ts", "--parallelism", "2", "--", "--n", "300", "--output", out2], { ...env(v1), timeoutMs: 90_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(outputLines(out2), expected("v1", 300));
  assert.equal(fetchesOf(id), 1, "the second job's tasks hit the TaskExecutor's cache");
});

test("two jobs whose bundles carry different versions of one helper module run side by side, each with its own", async () => {
  const outA = join(outDir, "side-v1");
  const outB = join(outDir, "side-v2");
  // At 200 records/s each job runs about 2 s: long enough to overlap.
  const args = (out: string) => ["run", "job.ts", "--parallelism", "2", "--", "--n", "400", "--rate", "200", "--output", out];
  const a = spawnEddy(args(outA), env(v1));
  const b = spawnEddy(args(outB), env(v2));
  const [ea, eb] = await Promise.all([a.waitForExit(90_000), b.waitForExit(90_000)]);
  assert.equal(ea.code, 0, a.stderr);
  assert.equal(eb.code, 0, b.stderr);
  assert.deepEqual(outputLines(outA), expected("v1", 400));
  assert.deepEqual(outputLines(outB), expected("v2", 400));
  const ids = [a, b].map((p) => /Job ([0-9a-f]{32}) submitted/.exec(p.stdout)![1]!);
  const jobs = await cluster.dispatcher.ask<JobOverview[]>("listJobs", {});
  const [ja, jb] = ids.map((id) => jobs.find((j) => j.id === id)!);
  assert.ok(ja!.startTime < jb!.endTime! && jb!.startTime < ja!.endTime!, "the two jobs ran at the same time on the one TaskExecutor");
});

test("the Dispatcher refuses a JobGraph whose bundle is missing or does not match its id, and changes nothing", async () => {
  const spec = await planOf(v1, ["--n", "5", "--output", join(outDir, "never")]);
  const before = (await cluster.dispatcher.ask<JobOverview[]>("listJobs", {})).length;
  const refused = async (body: unknown, code: string, method = "submitJob") => {
    await assert.rejects(cluster.dispatcher.ask(method, body, { timeoutMs: 20_000 }), (e: unknown) => e instanceof EddyError && e.code === code);
  };
  // Bytes nobody uploaded.
  const missing = bundleRefOf(new TextEncoder().encode("export default {}; // never uploaded"));
  await refused({ ...spec, bundle: { ...spec.bundle, ...missing } }, ErrorCode.BundleNotFound);
  await refused({ bundle: missing, args: [] }, ErrorCode.BundleNotFound, "submitApplication");
  // Other bytes stored under the id of a bundle (tampering with the store).
  const wanted = bundleRefOf(new TextEncoder().encode("export default () => ({}); // the real one"));
  const os = await new Objm(cluster.nc).open(new Subjects(cluster.prefix).bucket("bundles"));
  await os.putBlob({ name: wanted.id }, new TextEncoder().encode("export default () => ({}); // the evil one"));
  await refused({ ...spec, bundle: { ...spec.bundle, ...wanted } }, ErrorCode.BundleCorrupt);
  await refused({ bundle: { id: "nothex", size: 1 }, args: [] }, "MalformedRequest", "submitApplication");
  assert.equal((await cluster.dispatcher.ask<JobOverview[]>("listJobs", {})).length, before, "no job was created");
});

test("a main that cannot run again on the worker fails the job with the cause", async () => {
  // --settings names a file of the client's directory; the TaskExecutor's directory has none.
  writeFileSync(join(v1, "settings.json"), JSON.stringify({ prefix: "client-" }));
  const out = join(outDir, "nondeterministic");
  const r = await runEddy(["run", "job.ts", "--", "--n", "10", "--settings", "settings.json", "--output", out], { ...env(v1), timeoutMs: 90_000 });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /FAILED/);
  assert.match(`${r.stdout}\n${r.stderr}`, new RegExp(`${ErrorCode.UserCodeFailed}[\\s\\S]*settings\\.json`));
});

test("application mode: the client only bundles and uploads; main runs on the cluster and its errors come back with codes", async () => {
  const out = join(outDir, "application");
  const r = await runEddy(["run", "job.ts", "--application", "--parallelism", "2", "--", "--n", "120", "--output", out], { ...env(v2), timeoutMs: 90_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /Job [0-9a-f]{32} FINISHED/);
  assert.deepEqual(outputLines(out), expected("v2", 120));

  // main throws on the cluster: UserCodeFailed with its message; a missing argument keeps its code.
  const boom = await runEddy(["run", "job.ts", "--application", "--", "--n", "1", "--output", out, "--boom"], env(v2));
  assert.equal(boom.code, 1);
  assert.match(boom.stderr, /error UserCodeFailed: .*main refuses --boom/);
  const noArg = await runEddy(["run", "job.ts", "--application", "--", "--output", out], env(v2));
  assert.equal(noArg.code, 1);
  assert.match(noArg.stderr, /error MalformedRequest: missing job argument --n/);
  // main never returns (a busy loop): stopped after EDDY_APPLICATION_TIMEOUT_MS (2 s here).
  const started = Date.now();
  const hang = await runEddy(["run", "job.ts", "--application", "--", "--n", "1", "--output", out, "--hang"], { ...env(v2), timeoutMs: 60_000 });
  assert.equal(hang.code, 1);
  assert.match(hang.stderr, new RegExp(`error ${ErrorCode.ApplicationTimeout}: `));
  assert.ok(Date.now() - started < 30_000);
  // The JobManager is still serving after the hung main was stopped.
  const ok = await runEddy(["run", "job.ts", "--application", "--detached", "--", "--n", "5", "--output", join(outDir, "after-hang")], env(v2));
  assert.equal(ok.code, 0, ok.stderr);
  const jobId = /Job ([0-9a-f]{32}) submitted/.exec(ok.stdout)![1]!;
  assert.equal((await awaitJobResult(cluster.dispatcher, jobId, 60_000)).state, "FINISHED");
});
