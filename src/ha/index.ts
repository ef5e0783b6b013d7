export * from "./kv.js";
export * from "./execution-plan-store.js";
export * from "./job-result-store.js";
export * from "./leader-retrieval.js";
export * from "./published-leader-guard.js";
export * from "./lease-leader-election.js";
