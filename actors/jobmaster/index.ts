export * from "./job-master.js";
export * from "./job-details.js";
export * from "./protocol.js";
