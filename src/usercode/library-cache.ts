/**
 * The user code of the jobs a slot worker runs (Flink's LibraryCacheManager and its per-job user
 * code class loaders). For a job that ships a bundle, the first of its tasks here gets the bundle's
 * file from the TaskExecutor's {@link BundleCache}, imports it, runs the job's main again with the
 * recorded arguments and keeps what main built: the job's functions (`ctx.userCode`) and a
 * registry of the built-ins plus the bundle's own invokables. Later tasks of the job share it; it
 * is dropped when the job's last task here ends.
 *
 * Module URLs are per bundle: the file is named by the bundle's SHA-256, so jobs with different
 * bundles load apart (two versions of one helper module run side by side), while jobs of the same
 * bundle in one worker share its module instance (its top-level state) and each run main on their own.
 */
import { pathToFileURL } from "node:url";
import { EddyError, ErrorCode, ValidationError } from "../core/errors.js";
import { withTimeout } from "../core/time.js";
import type { UserCodeDescriptor } from "../deployment/descriptors.js";
import type { InvokableRegistry } from "../runtime/invokables/registry.js";
import { builtinRegistry, createJobRegistry } from "../runtime/invokables/index.js";
import type { InvokableFactory, UserCode } from "../runtime/api.js";
import type { BundleRef } from "../blob/index.js";
import { bundleInvokablesOf, foreignCode, messageOf, runJobMain, toJobGraphSpec, type JobModule } from "./job-main.js";
import type { TaskDeploymentDescriptor } from "../deployment/descriptors.js";
import { CHAIN_INVOKABLE } from "../runtime/invokables/chain.js";
import { JobUserCode, userFunctionsOf } from "./user-functions.js";

/** What a job's tasks run with. */
export interface JobCode {
  /** The invokables the job may name: built-ins, and the bundle's own. */
  readonly registry: InvokableRegistry;
  /** Names of the bundle's own invokables (their settings are checked when a task creates one). */
  readonly custom: ReadonlySet<string>;
  /** The job's functions; absent for jobs without a bundle. */
  readonly userCode?: UserCode;
  /** The vertices (id -> invokable) main built on this worker; absent for jobs without a bundle. */
  readonly vertices?: ReadonlyMap<string, string>;
}

/** Answers the path of the verified file of a bundle (the TaskExecutor's BundleCache). */
export type BundleFetcher = (ref: BundleRef) => Promise<string>;

/** How long the job's main may take to build its graph on a worker (async part), ms. */
export const DEFAULT_MAIN_TIMEOUT_MS = 60_000;

const BUILTINS: JobCode = { registry: builtinRegistry, custom: new Set() };

interface Lease {
  code: Promise<JobCode>;
  refs: number;
}

/** Loads and shares the user code of each job in one worker. */
export class LibraryCacheManager {
  private readonly jobs = new Map<string, Lease>();
  /** Times a job's main ran in this worker. */
  mainRuns = 0;

  constructor(
    private readonly fetchBundle: BundleFetcher,
    private readonly opts: { mainTimeoutMs?: number } = {},
  ) {}

  /**
   * The code of job `jobId` (loaded on first use), leased until {@link release}. A job without
   * `userCode` gets the built-ins. Rejects with EddyError: the blob codes (`BundleNotFound`,
   * `BundleCorrupt`...) or `UserCodeFailed` with the cause in the message; a failed load is not
   * kept, so a later task tries again.
   */
  acquire(jobId: string, desc: UserCodeDescriptor | undefined, jobName: string): Promise<JobCode> {
    if (!desc) return Promise.resolve(BUILTINS);
    let lease = this.jobs.get(jobId);
    if (!lease) {
      const code = this.load(desc, jobName);
      const l: Lease = { code, refs: 0 };
      lease = l;
      this.jobs.set(jobId, l);
      code.catch(() => {
        if (this.jobs.get(jobId) === l) this.jobs.delete(jobId);
      });
    }
    lease.refs++;
    return lease.code;
  }

  /** Ends one lease of job `jobId`'s code; the last one drops it. */
  release(jobId: string): void {
    const lease = this.jobs.get(jobId);
    if (!lease) return;
    if (--lease.refs <= 0) this.jobs.delete(jobId);
  }

  /** Jobs whose code is held here. */
  get size(): number {
    return this.jobs.size;
  }

  private async load(desc: UserCodeDescriptor, jobName: string): Promise<JobCode> {
    const ref = desc.bundle;
    const label = `the bundle ${ref.id.slice(0, 12)} of job "${jobName}"`;
    const path = await this.fetchBundle(ref);
    let mod: JobModule;
    try {
      mod = (await import(pathToFileURL(path).href)) as JobModule;
    } catch (err) {
      throw failed(`${label} does not load: ${messageOf(err)}`, err);
    }
    let built: unknown;
    this.mainRuns++;
    try {
      const ctx = desc.parallelism === undefined ? {} : { parallelism: desc.parallelism };
      built = await withTimeout(runJobMain(mod, desc.args, ctx, label), this.opts.mainTimeoutMs ?? DEFAULT_MAIN_TIMEOUT_MS, `the main of ${label}`);
    } catch (err) {
      const code = foreignCode(err) ?? (err instanceof EddyError ? err.code : undefined);
      throw failed(`the main of ${label} failed on this TaskExecutor${code ? ` (${code})` : ""}: ${messageOf(err)}`, err);
    }
    try {
      const registry = createJobRegistry(builtinRegistry, bundleInvokablesOf(mod, label));
      const vertices = new Map(toJobGraphSpec(built, label).vertices.map((v) => [v.id, v.invokable]));
      return { registry, custom: registry.custom, userCode: new JobUserCode(userFunctionsOf(built), `job "${jobName}"`), vertices };
    } catch (err) {
      throw failed(`${label}: ${messageOf(err)}`, err);
    }
  }
}

/**
 * Checks that main built, on this worker, the vertex (or every chained vertex) the task runs, with
 * the same invokable: a main that builds another graph from the same arguments breaks the
 * deterministic-main rule. EddyError `UserCodeFailed` saying which vertex differs.
 */
export function checkSameVertices(code: JobCode, tdd: Pick<TaskDeploymentDescriptor, "vertexId" | "invokable" | "config" | "jobName">): void {
  if (!code.vertices) return;
  const members =
    tdd.invokable === CHAIN_INVOKABLE && Array.isArray(tdd.config.members)
      ? (tdd.config.members as Array<{ id: string; invokable: string }>)
      : [{ id: tdd.vertexId, invokable: tdd.invokable }];
  for (const m of members) {
    const built = code.vertices.get(m.id);
    if (built !== m.invokable)
      throw new EddyError(
        ErrorCode.UserCodeFailed,
        `the main of job "${tdd.jobName}" built another graph on this TaskExecutor: ${built === undefined ? `it has no vertex "${m.id}"` : `vertex "${m.id}" runs "${built}"`}, the submitted one ${m.invokable === undefined ? "none" : `"${m.invokable}"`}; the job's main must build the same graph from the same arguments (see docs/writing-jobs.md, "User code")`,
        { details: { vertexId: m.id } },
      );
  }
}

/**
 * Checks a vertex's settings with a bundle's own invokable (the JobManager could not): what its
 * `validate` throws becomes a ValidationError InvalidJobGraph naming the vertex, unless it is one.
 */
export function validateBundleInvokable(factory: InvokableFactory, config: Record<string, unknown>, vertexId: string): void {
  try {
    factory.validate(config, vertexId);
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw new ValidationError(ErrorCode.InvalidJobGraph, `vertex "${vertexId}" (${factory.name}): invalid config: ${messageOf(err)}`, {
      cause: err,
      details: { vertexId },
    });
  }
}

/** The bundle store's own failures, passed on as they are: they say better than UserCodeFailed what to do. */
const BUNDLE_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.BundleNotFound,
  ErrorCode.BundleCorrupt,
  ErrorCode.BundleTooLarge,
  ErrorCode.BundleStorageFailed,
]);

function failed(message: string, cause: unknown): EddyError {
  if (cause instanceof EddyError && BUNDLE_CODES.has(cause.code)) return cause;
  return new EddyError(ErrorCode.UserCodeFailed, message, { cause });
}
