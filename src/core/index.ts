export * from "./errors.js";
export * from "./error-table.js";
export * from "./time.js";
export * from "./ids.js";
export * from "./logger.js";
export * from "./config.js";
export * from "./stream-events.js";
