export * from "./actor.js";
export * from "./gateway.js";
export * from "./headers.js";
export * from "./mailbox.js";
export * from "./nats.js";
export * from "./subjects.js";
