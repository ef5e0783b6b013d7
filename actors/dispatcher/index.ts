export * from "./dispatcher.js";
export * from "./job-archive.js";
export * from "./protocol.js";
