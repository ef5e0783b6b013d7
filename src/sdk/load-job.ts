/**
 * Loads a job file for `eddy run FILE`: bundles it (TypeScript or JavaScript) with esbuild into a
 * temporary ES module, imports it and calls its default export to get the JobGraph.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { JobGraphSpec } from "../jobgraph/types.js";
import type { JobContext } from "./index.js";

/** Lets bundled CommonJS code `require()` Node built-ins from an ES module. */
const REQUIRE_SHIM = 'import { createRequire as __eddyCreateRequire } from "node:module"; const require = __eddyCreateRequire(import.meta.url);';

function invalid(message: string, cause?: unknown): ValidationError {
  return new ValidationError(ErrorCode.InvalidJobGraph, message, cause === undefined ? undefined : { cause });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Builds the JobGraph defined by `file`. Its default export is either a function
 * `(args, {parallelism}) => JobGraphSpec | Promise<JobGraphSpec>`, a JobGraphSpec, or an object with
 * `build()` (a JobBuilder). `args` are the JOB-ARGS after `--`; they are recorded in `config.args`.
 * Errors are ValidationErrors: MalformedRequest when the file is missing, InvalidJobGraph when it
 * does not build, does not export a job or returns something that is not a JobGraph; a
 * ValidationError thrown by the job itself (e.g. a missing argument) passes through unchanged.
 */
export async function loadJob(file: string, args: string[], defaults: JobContext = {}): Promise<JobGraphSpec> {
  const abs = resolve(file);
  try {
    const st = await stat(abs);
    if (!st.isFile()) throw new Error("not a regular file");
  } catch (err) {
    throw new ValidationError(ErrorCode.MalformedRequest, `job file ${file} cannot be read: ${messageOf(err)}`, { cause: err });
  }
  const dir = await mkdtemp(join(tmpdir(), "eddy-job-"));
  try {
    const out = join(dir, "job.mjs");
    const esbuild = await import("esbuild");
    try {
      await esbuild.build({
        entryPoints: [abs],
        outfile: out,
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        sourcemap: "inline",
        logLevel: "silent",
        banner: { js: REQUIRE_SHIM },
      });
    } catch (err) {
      const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }).errors;
      const detail = errors?.length
        ? errors.slice(0, 5).map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text)).join("; ")
        : messageOf(err);
      throw invalid(`job file ${file} does not build: ${detail}`, err);
    }
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(out).href)) as { default?: unknown };
    } catch (err) {
      throw invalid(`job file ${file} failed while loading: ${messageOf(err)}`, err);
    }
    const entry = mod.default;
    let result: unknown;
    try {
      if (typeof entry === "function") result = await (entry as (a: string[], c: JobContext) => unknown)([...args], { ...defaults });
      else if (entry && typeof entry === "object" && typeof (entry as { build?: unknown }).build === "function") result = await (entry as { build(): unknown }).build();
      else if (entry && typeof entry === "object" && Array.isArray((entry as { vertices?: unknown }).vertices)) result = entry;
      else {
        throw invalid(
          `job file ${file} has no job as its default export; write \`export default function (args: string[], ctx: { parallelism?: number }) { ...; return env.build(); }\``,
        );
      }
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      // The bundle carries its own copy of the error classes: recognise them by name and code.
      const e = err as { name?: unknown; code?: unknown; message?: unknown } | null;
      if (e && e.name === "ValidationError" && typeof e.code === "string") {
        throw new ValidationError(e.code, String(e.message), { cause: err });
      }
      throw invalid(`the job in ${file} failed while building its JobGraph: ${messageOf(err)}`, err);
    }
    return toSpec(result, file, args);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Checks the rough shape and returns a plain-data copy, with `config.args` recorded. */
function toSpec(result: unknown, file: string, args: string[]): JobGraphSpec {
  if (!result || typeof result !== "object" || Array.isArray(result) || !Array.isArray((result as { vertices?: unknown }).vertices)) {
    throw invalid(`the default export of ${file} returned ${result === null ? "null" : Array.isArray(result) ? "an array" : typeof result}, not a JobGraph (an object with name, vertices and edges); return env.build()`);
  }
  let spec: JobGraphSpec;
  try {
    spec = JSON.parse(JSON.stringify(result)) as JobGraphSpec;
  } catch (err) {
    throw invalid(`the JobGraph built by ${file} is not plain data: ${messageOf(err)}`, err);
  }
  if (spec.config?.args === undefined) spec.config = { ...(spec.config ?? {}), args: [...args] };
  return spec;
}
