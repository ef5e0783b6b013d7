/**
 * User code: calling a job's main (client, TaskExecutors, application mode), the per-job code a
 * worker loads from the job's bundle (Flink's LibraryCacheManager), and application mode's isolated
 * run of main on the cluster.
 */
export {
  runJobMain,
  toJobGraphSpec,
  bundleInvokablesOf,
  attachBundle,
  noJobError,
  foreignCode,
  messageOf,
  type JobModule,
  type MainContext,
} from "./job-main.js";
export { JobUserCode, userFunctionsOf } from "./user-functions.js";
export { LibraryCacheManager, validateBundleInvokable, checkSameVertices, DEFAULT_MAIN_TIMEOUT_MS, type JobCode, type BundleFetcher } from "./library-cache.js";
export { ApplicationRunner, type ApplicationRequest, type ApplicationRunnerOptions } from "./application-runner.js";
