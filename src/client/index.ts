/** `eddy/client`: the typed client of a cluster's Dispatcher for programs. */
export { EddyClient, type ConnectOptions, type JobStateChange } from "./eddy-client.js";
export type { WaitResultOptions } from "./job-result.js";
export type { ClusterInfo, JobDetails, JobOverview, JobResultReply, RescaleReply, JobGraphSpec } from "./eddy-client.js";
