export * from "./endpoint-stats.js";
export * from "./responses.js";
export * from "./service-instance.js";
export * from "./service-registry.js";
