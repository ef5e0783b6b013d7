/**
 * Loads a job file for `eddy run FILE` and `eddy plan FILE`: bundles it (TypeScript or JavaScript)
 * with its dependencies into one ES module with esbuild, then imports the bundle and calls its
 * default export (the job's main) to get the JobGraph. The same bytes are what `eddy run` uploads
 * to the cluster (content-addressed by their SHA-256), so every TaskExecutor runs exactly this code.
 *
 * A job file may import the SDK as `"eddy"` (the task API as `"eddy/runtime"`, actors as `"eddy/actors"`) from anywhere:
 * those resolve to this installation's files.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { JobGraphSpec } from "../jobgraph/types.js";
import { bundleRefOf, type BundleRef } from "../blob/bundle-ref.js";
import { packageRoot } from "../cluster/paths.js";
import { attachBundle, bundleInvokablesOf, foreignCode, messageOf, runJobMain, toJobGraphSpec, type JobModule } from "../usercode/job-main.js";
import type { JobContext } from "./index.js";

/** Lets bundled CommonJS code `require()` Node built-ins from an ES module. */
const REQUIRE_SHIM = 'import { createRequire as __eddyCreateRequire } from "node:module"; const require = __eddyCreateRequire(import.meta.url);';

/** A job's code: one self-contained ES module and its id. */
export interface JobBundle {
  ref: BundleRef;
  bytes: Uint8Array;
}

/** What {@link buildJob} answers: the JobGraph naming the bundle, and the bundle. */
export interface BuiltJob {
  spec: JobGraphSpec;
  bundle: JobBundle;
}

function invalid(message: string, cause?: unknown): ValidationError {
  return new ValidationError(ErrorCode.InvalidJobGraph, message, cause === undefined ? undefined : { cause });
}

/** The files `eddy`, `eddy/runtime` and `eddy/actors` resolve to: the TypeScript sources when present, else the build. */
function sdkModules(): Record<string, string> {
  const root = packageRoot();
  const pick = (ts: string, js: string) => (existsSync(join(root, ts)) ? join(root, ts) : join(root, js));
  return {
    eddy: pick("src/sdk/index.ts", "dist/src/sdk/index.js"),
    "eddy/runtime": pick("src/runtime/api.ts", "dist/src/runtime/api.js"),
    "eddy/actors": pick("src/actor-sdk/index.ts", "dist/src/actor-sdk/index.js"),
  };
}

/**
 * Bundles `file` and everything it imports (but Node's built-ins) into one ES module. Errors are
 * ValidationErrors: MalformedRequest when the file is missing, InvalidJobGraph when it does not build.
 */
export async function bundleJobFile(file: string): Promise<JobBundle> {
  const abs = resolve(file);
  try {
    const st = await stat(abs);
    if (!st.isFile()) throw new Error("not a regular file");
  } catch (err) {
    throw new ValidationError(ErrorCode.MalformedRequest, `job file ${file} cannot be read: ${messageOf(err)}`, { cause: err });
  }
  const esbuild = await import("esbuild");
  const modules = sdkModules();
  // biome-ignore lint/suspicious/noImplicitAnyLet: typed by the assignment below (esbuild infers the result from the options given)
  let out;
  try {
    out = await esbuild.build({
      entryPoints: [abs],
      // Paths in the bundle's comments are relative to the job's directory: the same job gives the
      // same bytes (the same bundle id) from whatever directory it is run.
      absWorkingDir: dirname(abs),
      write: false,
      outfile: "job.mjs",
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "silent",
      banner: { js: REQUIRE_SHIM },
      plugins: [
        {
          name: "eddy-sdk",
          setup(b) {
            b.onResolve({ filter: /^eddy(\/runtime|\/actors)?$/ }, (a) => ({ path: modules[a.path]! }));
          },
        },
      ],
    });
  } catch (err) {
    const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }).errors;
    const detail = errors?.length
      ? errors
          .slice(0, 5)
          .map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text))
          .join("; ")
      : messageOf(err);
    throw invalid(`job file ${file} does not build: ${detail}`, err);
  }
  const bytes = out.outputFiles[0]!.contents;
  return { ref: bundleRefOf(bytes), bytes };
}

/**
 * Imports `bundle` (from a temporary file) and runs its main. Answers what main returned and the
 * module. Errors as in {@link loadJob}.
 */
async function runBundle(bundle: JobBundle, file: string, args: string[], ctx: JobContext): Promise<{ result: unknown; mod: JobModule }> {
  const dir = await mkdtemp(join(tmpdir(), "eddy-job-"));
  try {
    const path = join(dir, `${bundle.ref.id}.mjs`);
    await writeFile(path, bundle.bytes);
    let mod: JobModule;
    try {
      mod = (await import(pathToFileURL(path).href)) as JobModule;
    } catch (err) {
      throw invalid(`job file ${file} failed while loading: ${messageOf(err)}`, err);
    }
    try {
      return { result: await runJobMain(mod, args, { ...ctx }, `job file ${file}`), mod };
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      // The bundle carries its own copy of the error classes: recognise them by name and code.
      const code = foreignCode(err);
      if (code && (err as { name: string }).name === "ValidationError") throw new ValidationError(code, messageOf(err), { cause: err });
      throw invalid(`the job in ${file} failed while building its JobGraph: ${messageOf(err)}`, err);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Builds the JobGraph defined by `file`. Its default export is either a function
 * `(args, {parallelism}) => JobGraphSpec | Promise<JobGraphSpec>`, a JobGraphSpec, or an object with
 * `build()` (a JobBuilder). `args` are the JOB-ARGS after `--`; they are recorded in `config.args`.
 * The graph names no bundle: it is for jobs of built-in invokables (use {@link buildJob} to ship code).
 * Errors are ValidationErrors: MalformedRequest when the file is missing, InvalidJobGraph when it
 * does not build, does not export a job or returns something that is not a JobGraph; a
 * ValidationError thrown by the job itself (e.g. a missing argument) passes through unchanged.
 */
export async function loadJob(file: string, args: string[], defaults: JobContext = {}): Promise<JobGraphSpec> {
  const bundle = await bundleJobFile(file);
  const { result } = await runBundle(bundle, file, args, defaults);
  const spec = toJobGraphSpec(result, file);
  if (spec.config?.args === undefined) spec.config = { ...(spec.config ?? {}), args: [...args] };
  return spec;
}

/**
 * Bundles `file`, runs its main like {@link loadJob}, and answers the JobGraph naming the bundle
 * (`bundle: {id, size, invokables}`, `config.args`, `config.parallelism`) together with the bundle's
 * bytes, which the caller uploads (`eddy run`) or only describes (`eddy plan`). Errors as in
 * {@link loadJob}; InvalidJobGraph also when `export const invokables` is malformed.
 */
export async function buildJob(file: string, args: string[], ctx: JobContext = {}): Promise<BuiltJob> {
  const bundle = await bundleJobFile(file);
  const { result, mod } = await runBundle(bundle, file, args, ctx);
  const spec = toJobGraphSpec(result, file);
  attachBundle(spec, bundle.ref, bundleInvokablesOf(mod, `job file ${file}`), args, ctx);
  return { spec, bundle };
}
