export * from "./scheduler-ng.js";
export * from "./default-scheduler.js";
export * from "./slot-sharing.js";
export * from "./slot-pool.js";
export * from "./pipelined-region.js";
export * from "./execution-failure-handler.js";
export * from "./failover/index.js";
export * from "./restart/index.js";
