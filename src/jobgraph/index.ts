/** The JobGraph: its types, defaults and validation. */
export * from "./types.js";
export { validateJobGraph, jobGraphSchema, jsonPath } from "./validate.js";
export {
  graphInvokables,
  isChainInvokable,
  CHAIN_INVOKABLE,
  type InvokableCatalog,
  type CatalogInvokable,
  type IterationEnd,
  type ChainCatalogInvokable,
  type ChainingLookup,
  type ChainMember,
} from "./catalog.js";
export { chainOperators, isChainableEdge, type ChainingContext } from "./chaining.js";
export {
  defaultMaxParallelism,
  roundUpToPowerOfTwo,
  distributionOf,
  JobGraphDefaults,
  DEFAULT_LOWER_BOUND_MAX_PARALLELISM,
  UPPER_BOUND_MAX_PARALLELISM,
} from "./defaults.js";
export {
  applyJobConfiguration,
  parseConfigurationPairs,
  parseJobConfiguration,
  parseDurationMs,
  CONFIG_OPTIONS,
  MAX_CONFIG_ENTRIES,
  type ConfigOption,
  type JobConfiguration,
  type RuntimeMode,
} from "./configuration/index.js";
