/**
 * Reading a job's configuration: `key=value` pairs (`eddy run -D`) into a map, and a map (the CLI's,
 * or the one a `submitApplication` request carries) into a typed {@link JobConfiguration}. Anything
 * Eddy does not know is refused, naming the key and what it accepts.
 */
import { ErrorCode, ValidationError } from "../../core/errors.js";
import { CONFIG_OPTIONS, type ConfigOption, type JobConfiguration } from "./options.js";

const BY_KEY: ReadonlyMap<string, ConfigOption> = new Map(CONFIG_OPTIONS.map((o) => [o.key, o]));

/** Keys a configuration may hold: more are refused (a bound for what crosses a process boundary). */
export const MAX_CONFIG_ENTRIES = 100;

function malformed(message: string): ValidationError {
  return new ValidationError(ErrorCode.MalformedRequest, message);
}

/**
 * The map of `key=value` pairs (split at the first `=`, both sides trimmed); of a key given twice
 * the later value wins. Throws ValidationError MalformedRequest for a pair without `=` or key, or
 * an unknown key.
 */
export function parseConfigurationPairs(pairs: readonly string[]): Record<string, string> {
  const out = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? "" : pair.slice(0, eq).trim();
    if (key === "") throw malformed(`configuration '${pair}' is not key=value (like -D execution.checkpointing.interval=10s)`);
    optionOf(key);
    out.set(key, pair.slice(eq + 1).trim());
  }
  return Object.fromEntries(out);
}

/**
 * The typed configuration of `entries`. Throws ValidationError MalformedRequest naming the first
 * unknown key, or the first value a key does not accept (and what it accepts).
 */
export function parseJobConfiguration(entries: Readonly<Record<string, string>>): JobConfiguration {
  const keys = Object.keys(entries);
  if (keys.length > MAX_CONFIG_ENTRIES) throw malformed(`a job takes at most ${MAX_CONFIG_ENTRIES} configuration keys, got ${keys.length}`);
  const c: JobConfiguration = { entries: { ...entries }, checkpointing: {}, restart: {} };
  for (const key of keys) {
    const o = optionOf(key);
    const raw = entries[key]!;
    const value = typeof raw === "string" ? o.read(raw.trim()) : undefined;
    if (value === undefined) throw malformed(`bad value '${String(raw)}' for ${key}: expected ${o.accepts}`);
    o.set(c, value);
  }
  return c;
}

function optionOf(key: string): ConfigOption {
  const o = BY_KEY.get(key);
  if (!o) throw malformed(`unknown configuration key '${key}'; the keys Eddy takes: ${CONFIG_OPTIONS.map((x) => x.key).join(", ")}`);
  return o;
}
