/**
 * Application mode (Flink's application clusters): the job's main runs on the cluster side. The
 * Dispatcher gets the bundle through its {@link BundleCache} (fetched and verified once), runs main
 * in a worker thread of its own — isolated from the JobManager's state, with a heap limit and a
 * timeout after which the thread is terminated — and takes the JobGraph main returns, naming the
 * bundle, as if a client had submitted it.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { EddyError, ErrorCode, ValidationError } from "../core/errors.js";
import { packageRoot } from "../core/package.js";
import type { JobGraphSpec } from "../jobgraph/types.js";
import type { BundleCache, BundleRef } from "../blob/index.js";
import { attachBundle } from "./job-main.js";
import { applyJobConfiguration, parseJobConfiguration } from "../jobgraph/configuration/index.js";

/** What `submitApplication` asks for. */
export interface ApplicationRequest {
  bundle: BundleRef;
  args?: string[];
  parallelism?: number;
  savepoint?: string;
  jobId?: string;
  /** Flink configuration keys (`eddy run -D`), applied after main; `parallelism` wins over `parallelism.default`. */
  configuration?: Record<string, string>;
}

/** What the application thread is started with. */
export interface ApplicationWorkerData {
  path: string;
  bundleId: string;
  args: string[];
  parallelism?: number;
}

/** What the application thread posts back. */
export type ApplicationWorkerReply =
  | { ok: true; spec: JobGraphSpec; invokables: Array<{ name: string; kind: "source" | "operator" | "sink" }> }
  | { ok: false; error: { code: ErrorCode; message: string } };

/** Options of an {@link ApplicationRunner}. */
export interface ApplicationRunnerOptions {
  /** How long main may take, ms (default 60 000); the thread is terminated then. */
  timeoutMs?: number;
  /** Heap limit of the thread, MiB (default 512). */
  maxHeapMb?: number;
}

/** The thread's module, found from the package root: this file may run inside the CLI's bundle. */
const workerUrl = () => pathToFileURL(join(packageRoot(), "dist", "src", "usercode", "application-worker.js"));

/** Runs applications' mains for the Dispatcher. */
export class ApplicationRunner {
  private readonly running = new Set<Worker>();
  private closed = false;

  constructor(
    private readonly bundles: BundleCache,
    private readonly opts: ApplicationRunnerOptions = {},
  ) {}

  /**
   * The JobGraph the application's main builds, naming its bundle, with `config.args`,
   * `config.parallelism`, `config.savepoint` and `jobId` from the request and its `configuration`
   * applied. Rejects with EddyError: MalformedRequest for a configuration the job cannot take, the
   * blob codes (`BundleNotFound`, `BundleCorrupt`...), `ApplicationTimeout`, `UserCodeFailed`, or
   * the ValidationError code main itself threw.
   */
  async build(req: ApplicationRequest): Promise<JobGraphSpec> {
    if (this.closed) throw new EddyError(ErrorCode.Shutdown, "the application runner is closed");
    const conf = parseJobConfiguration(req.configuration ?? {});
    const parallelism = req.parallelism ?? conf.parallelism;
    const path = await this.bundles.get(req.bundle);
    const args = req.args ?? [];
    const reply = await this.runMain({ path, bundleId: req.bundle.id, args, ...(parallelism !== undefined ? { parallelism } : {}) });
    if (!reply.ok) {
      const E = reply.error.code === ErrorCode.UserCodeFailed ? EddyError : ValidationError;
      throw new E(reply.error.code, reply.error.message);
    }
    const spec = attachBundle(reply.spec, req.bundle, reply.invokables, args, parallelism === undefined ? {} : { parallelism });
    applyJobConfiguration(spec, conf);
    if (req.savepoint !== undefined) spec.config = { ...spec.config, savepoint: req.savepoint };
    if (req.jobId !== undefined) spec.jobId = req.jobId;
    return spec;
  }

  /** Terminates running mains and closes the cache. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running].map((w) => w.terminate()));
    await this.bundles.close();
  }

  private runMain(data: ApplicationWorkerData): Promise<ApplicationWorkerReply> {
    const timeoutMs = this.opts.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const w = new Worker(workerUrl(), {
        workerData: data,
        resourceLimits: { maxOldGenerationSizeMb: this.opts.maxHeapMb ?? 512 },
        // The JobManager's environment is not the application's business.
        env: {},
        stdout: false,
        stderr: false,
      });
      this.running.add(w);
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.running.delete(w);
        void w.terminate();
        f();
      };
      const timer = setTimeout(
        () =>
          settle(() =>
            reject(
              new EddyError(
                ErrorCode.ApplicationTimeout,
                `the application's main did not return its JobGraph within ${timeoutMs} ms and was stopped; keep main quick (build the graph, do no work)`,
              ),
            ),
          ),
        timeoutMs,
      );
      w.once("message", (m: ApplicationWorkerReply) => settle(() => resolve(m)));
      w.once("error", (err) => settle(() => reject(new EddyError(ErrorCode.UserCodeFailed, `the application's main crashed: ${err.message}`, { cause: err }))));
      w.once("exit", (code) =>
        settle(() =>
          reject(new EddyError(ErrorCode.UserCodeFailed, `the application's main ended its thread (exit code ${code}) without returning a JobGraph`)),
        ),
      );
    });
  }
}
