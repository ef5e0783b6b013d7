/** A job's Flink configuration at submission (`eddy run -D key=value`): its keys, parsing and application. */
export { CONFIG_OPTIONS, type ConfigOption, type JobConfiguration, type RestartSettings, type RestartType, type RuntimeMode } from "./options.js";
export { parseConfigurationPairs, parseJobConfiguration, MAX_CONFIG_ENTRIES } from "./parse.js";
export { applyJobConfiguration } from "./apply.js";
export { parseDurationMs, formatDurationMs } from "./duration.js";
