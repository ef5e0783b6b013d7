export * from "./adaptive-batch-scheduler.js";
