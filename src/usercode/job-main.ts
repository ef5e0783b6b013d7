/**
 * Calling a job's main: the default export of a job module, run by the client (`eddy run`, `eddy
 * plan`), by every TaskExecutor that runs one of the job's tasks (to get the job's functions and
 * invokables back), and by the Dispatcher in application mode. All of them get the same graph only
 * if main is deterministic: the same arguments give the same graph and the same function refs.
 */
import { ErrorCode, isErrorCode, ValidationError } from "../core/errors.js";
import type { JobBundleSpec, JobGraphSpec } from "../jobgraph/types.js";
import type { InvokableFactory } from "../runtime/api.js";

/** What main is told besides its arguments (the SDK's JobContext). */
export interface MainContext {
  parallelism?: number;
}

/** A loaded job module: `export default` the main, optionally `export const invokables`. */
export interface JobModule {
  default?: unknown;
  invokables?: unknown;
}

/** The error a module without a job gets. */
export function noJobError(label: string): ValidationError {
  return new ValidationError(
    ErrorCode.InvalidJobGraph,
    `${label} has no job as its default export; write \`export default function (args: string[], ctx: { parallelism?: number }) { ...; return env.build(); }\``,
  );
}

/**
 * Runs the module's main: a function `(args, ctx)` (awaited), an object with `build()`, or a plain
 * JobGraph. Answers what it returned, untouched (its {@link USER_FUNCTIONS} map included). Throws
 * what main throws, and {@link noJobError} when the default export is none of these.
 */
export async function runJobMain(mod: JobModule, args: readonly string[], ctx: MainContext, label: string): Promise<unknown> {
  const entry = mod.default;
  if (typeof entry === "function") return await (entry as (a: string[], c: MainContext) => unknown)([...args], { ...ctx });
  if (entry && typeof entry === "object" && typeof (entry as { build?: unknown }).build === "function") return await (entry as { build(): unknown }).build();
  if (entry && typeof entry === "object" && Array.isArray((entry as { vertices?: unknown }).vertices)) return entry;
  throw noJobError(label);
}

/**
 * A plain-data copy of what main returned (symbol keys and functions left behind). Throws
 * ValidationError InvalidJobGraph when it is not a JobGraph.
 */
export function toJobGraphSpec(result: unknown, label: string): JobGraphSpec {
  if (!result || typeof result !== "object" || Array.isArray(result) || !Array.isArray((result as { vertices?: unknown }).vertices)) {
    throw new ValidationError(
      ErrorCode.InvalidJobGraph,
      `the default export of ${label} returned ${result === null ? "null" : Array.isArray(result) ? "an array" : typeof result}, not a JobGraph (an object with name, vertices and edges); return env.build()`,
    );
  }
  try {
    return JSON.parse(JSON.stringify(result)) as JobGraphSpec;
  } catch (err) {
    throw new ValidationError(ErrorCode.InvalidJobGraph, `the JobGraph built by ${label} is not plain data: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    });
  }
}

/**
 * The custom invokables the module exports (`export const invokables: InvokableFactory[]`); none
 * when it exports none. Throws ValidationError InvalidJobGraph when the export is malformed.
 */
export function bundleInvokablesOf(mod: JobModule, label: string): InvokableFactory[] {
  const raw = mod.invokables;
  if (raw === undefined) return [];
  if (!Array.isArray(raw))
    throw new ValidationError(ErrorCode.InvalidJobGraph, `${label}: \`export const invokables\` must be an array of invokable factories`);
  raw.forEach((f: unknown, i) => {
    const x = f as Partial<InvokableFactory> | null;
    const ok =
      x &&
      typeof x === "object" &&
      typeof x.name === "string" &&
      /^[A-Za-z0-9_.:-]{1,128}$/.test(x.name) &&
      (x.kind === "source" || x.kind === "operator" || x.kind === "sink") &&
      typeof x.create === "function" &&
      typeof x.validate === "function";
    if (!ok)
      throw new ValidationError(
        ErrorCode.InvalidJobGraph,
        `${label}: invokables[${i}] is not an invokable factory {name (matching [A-Za-z0-9_.:-]{1,128}), kind ("source" | "operator" | "sink"), description, validate(config, vertexId), create(config)}`,
      );
  });
  return raw as InvokableFactory[];
}

/**
 * Records in `spec` what the cluster needs to run the job's code: the bundle (and the invokables it
 * declares) and the arguments main was called with. Modifies and returns `spec`.
 */
export function attachBundle(
  spec: JobGraphSpec,
  bundle: { id: string; size: number },
  invokables: ReadonlyArray<Pick<InvokableFactory, "name" | "kind">>,
  args: readonly string[],
  ctx: MainContext,
): JobGraphSpec {
  const b: JobBundleSpec = { id: bundle.id, size: bundle.size };
  if (invokables.length) b.invokables = invokables.map((f) => ({ name: f.name, kind: f.kind }));
  spec.bundle = b;
  spec.config = { ...(spec.config ?? {}), args: [...args] };
  if (ctx.parallelism !== undefined) spec.config.parallelism = ctx.parallelism;
  else delete spec.config.parallelism;
  return spec;
}

/** A thrown value's message. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * An error thrown by a bundle's own copy of Eddy's error classes (not `instanceof` ours): its code,
 * when it is one of Eddy's codes (an unknown one is no code: the failure is then the job's own).
 */
export function foreignCode(err: unknown): ErrorCode | undefined {
  const e = err as { name?: unknown; code?: unknown } | null;
  return e && typeof e === "object" && isErrorCode(e.code) && typeof e.name === "string" && /Error$/.test(e.name) ? e.code : undefined;
}
