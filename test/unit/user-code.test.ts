/**
 * User code on the worker side without a cluster: a job file bundled like `eddy run` does, loaded by
 * a LibraryCacheManager (its main run again with the recorded arguments, its functions behind
 * `ctx.userCode`, its custom invokables in a per-job registry, shared by the job's tasks, apart per
 * bundle), the failures a worker reports (main throws, a ref main did not register), and the
 * JobGraph rules for invokables a bundle declares (validation, chaining).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EddyError, ErrorCode } from "../../src/core/errors.js";
import { bundleJobFile, buildJob, type JobBundle } from "../../src/sdk/load-job.js";
import { checkSameVertices, LibraryCacheManager, validateBundleInvokable } from "../../src/usercode/index.js";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";
import { chainOperators, graphInvokables, validateJobGraph, type JobGraphSpec } from "../../src/jobgraph/index.js";
import { CHAIN_INVOKABLE } from "../../src/runtime/invokables/chain.js";

const dir = mkdtempSync(join(tmpdir(), "eddy-usercode-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const hasCode = (c: string, re?: RegExp) => (e: unknown) => e instanceof EddyError && e.code === c && (!re || re.test(e.message));

/** Writes a job module (and its helper) into a directory of its own and bundles it. */
async function jobBundle(name: string, files: Record<string, string>): Promise<{ bundle: JobBundle; file: string; path: string }> {
  const root = mkdtempSync(join(dir, `${name}-`));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(root, f), text);
  const file = join(root, "job.ts");
  const bundle = await bundleJobFile(file);
  const path = join(root, `${bundle.ref.id}.mjs`);
  writeFileSync(path, bundle.bytes);
  return { bundle, file, path };
}

const helper = (version: string) => `export const VERSION = ${JSON.stringify(version)};\nexport const tag = (x: unknown) => VERSION + ":" + String(x);\n`;

const JOB = `
import { USER_FUNCTIONS } from "eddy/runtime";
import { requireJobArg } from "eddy";
import { tag, VERSION } from "./helper";

export const invokables = [
  {
    name: "test.tagger",
    kind: "operator",
    description: "emits fn(record) for the user function config.fn",
    validate(config: Record<string, unknown>, vertexId: string) {
      if (typeof config.fn !== "string") throw new Error("vertex " + vertexId + ": config.fn must be a string");
    },
    create(config: Record<string, unknown>) {
      return { async invoke() { void config; } };
    },
  },
];

export default (args: string[], ctx: { parallelism?: number }) => {
  const n = requireJobArg(args, "--n");
  const spec = {
    name: "tag " + VERSION,
    vertices: [
      { id: "src", invokable: "source.sequence", parallelism: ctx.parallelism ?? 1, config: { from: 1, to: Number(n) } },
      { id: "tag", invokable: "test.tagger", parallelism: ctx.parallelism ?? 1, config: { fn: "tag" } },
      { id: "out", invokable: "sink.discard", parallelism: 1 },
    ],
    edges: [
      { source: "src", target: "tag", partitioner: "forward" },
      { source: "tag", target: "out", partitioner: "rebalance" },
    ],
  };
  const fns = new Map<string, unknown>([["tag", tag], ["calls", () => args.join(" ")]]);
  if (args.includes("--boom")) throw new Error("main refuses --boom");
  return Object.assign(spec, { [USER_FUNCTIONS]: fns });
};
`;

test("a worker runs the job's main again: the job's functions and invokables, shared by its tasks, per bundle", async () => {
  const v1 = await jobBundle("v1", { "job.ts": JOB, "helper.ts": helper("v1") });
  const v2 = await jobBundle("v2", { "job.ts": JOB, "helper.ts": helper("v2") });
  assert.notEqual(v1.bundle.ref.id, v2.bundle.ref.id, "different helper code, different bundles");
  const fetched: string[] = [];
  const paths = new Map([
    [v1.bundle.ref.id, v1.path],
    [v2.bundle.ref.id, v2.path],
  ]);
  const libs = new LibraryCacheManager(async (ref) => (fetched.push(ref.id), paths.get(ref.id)!));
  const desc = (b: JobBundle, args: string[], parallelism?: number) => ({ bundle: b.ref, args, ...(parallelism ? { parallelism } : {}) });

  const [a1, a2] = await Promise.all([
    libs.acquire("job-a", desc(v1.bundle, ["--n", "5"], 2), "A"),
    libs.acquire("job-a", desc(v1.bundle, ["--n", "5"], 2), "A"),
  ]);
  assert.equal(a1, a2, "tasks of one job share its code");
  assert.equal(libs.mainRuns, 1);
  const b = await libs.acquire("job-b", desc(v2.bundle, ["--n", "5", "--x"]), "B");
  assert.equal(libs.mainRuns, 2);
  // Each job sees its own bundle's helper version, side by side in one worker.
  assert.equal(a1.userCode!.fn<(x: unknown) => string>("tag")(7), "v1:7");
  assert.equal(b.userCode!.fn<(x: unknown) => string>("tag")(7), "v2:7");
  // main got the recorded arguments.
  assert.equal(b.userCode!.fn<() => string>("calls")(), "--n 5 --x");
  // Custom invokables: in a per-job registry, beside the built-ins, never in the built-ins' registry.
  assert.ok(a1.registry.get("test.tagger"));
  assert.ok(a1.registry.get("source.sequence"));
  assert.ok(a1.custom.has("test.tagger"));
  assert.notEqual(a1.registry.get("test.tagger"), b.registry.get("test.tagger"), "one factory per bundle");
  assert.equal(builtinRegistry.get("test.tagger"), undefined);
  assert.equal(a1.registry.names().includes(CHAIN_INVOKABLE), false);
  assert.ok(a1.registry.get(CHAIN_INVOKABLE), "the job's chain can run its invokables");
  // Settings of a bundle's invokable are checked on the worker; its own errors become InvalidJobGraph.
  const tagger = a1.registry.lookup("test.tagger");
  validateBundleInvokable(tagger, { fn: "tag" }, "tag");
  assert.throws(
    () => validateBundleInvokable(tagger, { fn: 42 }, "tag"),
    hasCode(ErrorCode.InvalidJobGraph, /vertex "tag" \(test\.tagger\): invalid config: .*config\.fn must be a string/),
  );
  // The graph main built here must have the task's vertices (chained or not) with the same invokables.
  checkSameVertices(a1, { vertexId: "tag", invokable: "test.tagger", config: { fn: "tag" }, jobName: "A" });
  const chain = (members: Array<{ id: string; invokable: string }>) => ({ vertexId: "src", invokable: CHAIN_INVOKABLE, config: { members }, jobName: "A" });
  checkSameVertices(
    a1,
    chain([
      { id: "src", invokable: "source.sequence" },
      { id: "tag", invokable: "test.tagger" },
    ]),
  );
  assert.throws(
    () => checkSameVertices(a1, { vertexId: "tag", invokable: "op.identity", config: {}, jobName: "A" }),
    hasCode(ErrorCode.UserCodeFailed, /vertex "tag" runs "test.tagger".*same graph/),
  );
  assert.throws(
    () =>
      checkSameVertices(
        a1,
        chain([
          { id: "src", invokable: "source.sequence" },
          { id: "tag2", invokable: "test.tagger" },
        ]),
      ),
    hasCode(ErrorCode.UserCodeFailed, /no vertex "tag2"/),
  );
  // A ref main did not register: UnknownInvokable naming it.
  assert.throws(() => a1.userCode!.fn("nope"), hasCode(ErrorCode.UnknownInvokable, /"nope".*same graph/));

  // Leases: the code stays while a task of the job holds it, and is dropped with the last one.
  libs.release("job-a");
  assert.equal(libs.size, 2);
  libs.release("job-a");
  libs.release("job-b");
  assert.equal(libs.size, 0);
  assert.deepEqual(fetched, [v1.bundle.ref.id, v2.bundle.ref.id], "one fetch per job");
  // A job without a bundle gets the built-ins and no user code.
  const plain = await libs.acquire("job-c", undefined, "C");
  assert.equal(plain.registry, builtinRegistry);
  assert.equal(plain.userCode, undefined);
});

test("a main that fails on the worker fails the load with UserCodeFailed and its cause; the failure is not kept", async () => {
  const v = await jobBundle("boom", { "job.ts": JOB, "helper.ts": helper("v9") });
  const libs = new LibraryCacheManager(async () => v.path);
  await assert.rejects(
    libs.acquire("j", { bundle: v.bundle.ref, args: ["--n", "1", "--boom"] }, "J"),
    hasCode(ErrorCode.UserCodeFailed, /main refuses --boom/),
  );
  assert.equal(libs.size, 0);
  // A missing argument (the job's own ValidationError) names its code.
  await assert.rejects(libs.acquire("k", { bundle: v.bundle.ref, args: [] }, "K"), hasCode(ErrorCode.UserCodeFailed, /\(MalformedRequest\).*--n/));
  // A fetch failure passes through with its own code.
  const broken = new LibraryCacheManager(async () => {
    throw new EddyError("BundleNotFound", "gone");
  });
  await assert.rejects(broken.acquire("j", { bundle: v.bundle.ref, args: [] }, "J"), hasCode("BundleNotFound"));
  // A file that is no module.
  const junk = join(dir, "junk.mjs");
  writeFileSync(junk, "this is not javascript(");
  await assert.rejects(
    new LibraryCacheManager(async () => junk).acquire("j", { bundle: v.bundle.ref, args: [] }, "J"),
    hasCode(ErrorCode.UserCodeFailed, /does not load/),
  );
});

test("buildJob records what main needs on the cluster: the bundle, its invokables, args and parallelism", async () => {
  const v = await jobBundle("build", { "job.ts": JOB, "helper.ts": helper("v3") });
  const { spec, bundle } = await buildJob(v.file, ["--n", "3"], { parallelism: 2 });
  assert.deepEqual(bundle.ref, v.bundle.ref, "the same bytes every time: the same id");
  assert.deepEqual(spec.bundle, { id: v.bundle.ref.id, size: v.bundle.ref.size, invokables: [{ name: "test.tagger", kind: "operator" }] });
  assert.deepEqual(spec.config?.args, ["--n", "3"]);
  assert.equal(spec.config?.parallelism, 2);
  assert.equal(spec.name, "tag v3");
  const graph = validateJobGraph(spec, builtinRegistry);
  assert.deepEqual(graph.bundle, spec.bundle);
  assert.equal(graph.config.parallelism, 2);
});

test("JobGraph rules: a bundle's declared invokables validate, keep their role, chain, and cannot shadow a built-in", () => {
  const bundle = {
    id: "a".repeat(64),
    size: 10,
    invokables: [
      { name: "my.op", kind: "operator" as const },
      { name: "my.sink", kind: "sink" as const },
    ],
  };
  const spec: JobGraphSpec = {
    name: "declared",
    vertices: [
      { id: "src", invokable: "source.sequence", parallelism: 2, config: { from: 1, to: 10 } },
      { id: "op", invokable: "my.op", parallelism: 2, config: { anything: true } },
      { id: "out", invokable: "my.sink", parallelism: 2 },
    ],
    edges: [
      { source: "src", target: "op", partitioner: "forward" },
      { source: "op", target: "out", partitioner: "forward" },
    ],
    bundle,
  };
  const graph = validateJobGraph(spec, builtinRegistry);
  const chained = chainOperators(graph, graphInvokables(graph.bundle, builtinRegistry));
  assert.equal(chained.vertices.length, 1, "source, custom operator and custom sink chain into one task");
  assert.equal(chained.vertices[0]!.invokable, CHAIN_INVOKABLE);
  assert.deepEqual(chained.bundle, graph.bundle);
  // Without the declaration the name is unknown.
  assert.throws(() => validateJobGraph({ ...spec, bundle: { id: bundle.id, size: 10 } }, builtinRegistry), hasCode(ErrorCode.UnknownInvokable));
  // The declared kind counts: a sink cannot have outputs.
  assert.throws(
    () =>
      validateJobGraph(
        {
          ...spec,
          bundle: {
            ...bundle,
            invokables: [
              { name: "my.op", kind: "sink" },
              { name: "my.sink", kind: "sink" },
            ],
          },
        },
        builtinRegistry,
      ),
    hasCode(ErrorCode.InvalidJobGraph, /is a sink and cannot have outputs/),
  );
  assert.throws(
    () => validateJobGraph({ ...spec, bundle: { ...bundle, invokables: [...bundle.invokables, { name: "sink.discard", kind: "sink" }] } }, builtinRegistry),
    hasCode(ErrorCode.InvalidJobGraph, /name of a built-in/),
  );
  assert.throws(() => validateJobGraph({ ...spec, bundle: { id: "XYZ", size: 10 } }, builtinRegistry), hasCode(ErrorCode.InvalidJobGraph, /bundle\.id/));
});
