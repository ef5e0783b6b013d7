export * from "./resource-manager.js";
export * from "./slot-manager.js";
export * from "./protocol.js";
export * from "./liveness.js";
