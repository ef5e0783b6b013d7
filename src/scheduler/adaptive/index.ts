export * from "./settings.js";
export * from "./slot-allocator.js";
export * from "./environment.js";
export * from "./adaptive-scheduler-setup.js";
export * from "./adaptive-scheduler-machine.js";
export * from "./adaptive-scheduler.js";
