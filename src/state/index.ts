/** Keyed-state support: key groups and their assignment to subtasks. */
export * from "./key-groups.js";
