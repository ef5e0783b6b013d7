export * as s from "./check.js";
export type { Check, Infer } from "./check.js";
