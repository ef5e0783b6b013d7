/** `eddy/testing`: a whole cluster inside a test process, for users' tests. */
export { MiniCluster, type MiniClusterOptions } from "./mini-cluster.js";
