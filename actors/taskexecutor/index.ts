export * from "./task-executor.js";
export * from "./task-slot-table.js";
export * from "./protocol.js";
