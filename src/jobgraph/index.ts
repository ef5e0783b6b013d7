/** The JobGraph: its types, defaults and validation. */
export * from "./types.js";
export { validateJobGraph, jobGraphSchema, jsonPath, type InvokableLookup } from "./validate.js";
export { graphInvokables, declaredInvokable, type GraphInvokableLookup } from "./bundle-invokables.js";
export { chainOperators, isChainableEdge, type ChainingLookup, type ChainingContext } from "./chaining.js";
export {
  defaultMaxParallelism,
  roundUpToPowerOfTwo,
  distributionOf,
  JobGraphDefaults,
  DEFAULT_LOWER_BOUND_MAX_PARALLELISM,
  UPPER_BOUND_MAX_PARALLELISM,
} from "./defaults.js";
