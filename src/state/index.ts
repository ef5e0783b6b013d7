/** Keyed and operator state: key groups, the state API, the heap and operator backends, the canonical snapshot format. */
export * from "./key-groups.js";
export type * from "./api.js";
export type * from "./handles.js";
export * from "./snapshot-format.js";
export * from "./heap-keyed-state-backend.js";
export { HeapKeyedStateSnapshot } from "./copy-on-write-state-table.js";
export * from "./operator-state-backend.js";
