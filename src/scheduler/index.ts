export * from "./scheduler-ng.js";
export * from "./default-scheduler.js";
export * from "./slot-sharing.js";
