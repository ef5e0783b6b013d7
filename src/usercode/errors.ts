/** Stable error codes of user code (a job's bundle and main). Never rename one: clients match on them. */
export const UserCodeErrorCode = {
  /**
   * The job's code failed where the cluster ran it: the bundle did not load, its main threw, timed
   * out building the graph on a TaskExecutor, or returned no JobGraph, or its invokables are malformed.
   */
  UserCodeFailed: "UserCodeFailed",
  /** An application's main (application mode) did not return its JobGraph in time and was stopped. */
  ApplicationTimeout: "ApplicationTimeout",
} as const;
export type UserCodeErrorCode = (typeof UserCodeErrorCode)[keyof typeof UserCodeErrorCode];
