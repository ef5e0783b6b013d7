export * from "./restart-backoff-time-strategy.js";
export * from "./no-restart.js";
export * from "./fixed-delay.js";
export * from "./failure-rate.js";
export * from "./exponential-delay.js";
export * from "./factory.js";
