export * from "./failover-strategy.js";
export * from "./restart-all.js";
export * from "./restart-pipelined-region.js";
