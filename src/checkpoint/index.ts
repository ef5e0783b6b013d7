/** Checkpoints: metadata types, state storage in Object Store, and the HA stores in KV. */
export * from "./types.js";
export * from "./names.js";
export * from "./storage.js";
export * from "./checkpoint-id-counter.js";
export * from "./completed-checkpoint-store.js";
export * from "./savepoint-store.js";
export * from "./checkpoint-stats-tracker.js";
export * from "./checkpoint-key-sweep.js";
