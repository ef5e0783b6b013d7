/**
 * How a built-in invokable is declared: the config keys it accepts, one function that checks and reads
 * its settings, and one that builds the invokable from them. The JobManager validates with the same
 * reader the TaskExecutor creates with, so a config that validated builds what it described.
 */
import type { Invokable, InvokableFactory } from "./api.js";
import { onlyKeys } from "./invokable-common.js";

/** What one built-in invokable declares. */
export interface InvokableSpec<S> {
  name: string;
  /** One line for the docs and error messages. */
  description: string;
  kind: InvokableFactory["kind"];
  /** The config keys it accepts (any other key is an InvalidJobGraph error). */
  keys: readonly string[];
  /**
   * Checks and reads the config (its keys already checked); throws ValidationError (InvalidJobGraph)
   * saying what to fix. Absent when the invokable has no settings.
   */
  settings?(config: Record<string, unknown>, vertexId: string): S;
  /** Builds the invokable of one subtask from its settings. */
  create(settings: S): Invokable;
}

/** The registry entry of a built-in invokable. */
export function defineInvokable<S = undefined>(spec: InvokableSpec<S>): InvokableFactory {
  const read = (config: Record<string, unknown>, vertexId: string): S => {
    onlyKeys(config, spec.keys, spec.name, vertexId);
    return spec.settings ? spec.settings(config, vertexId) : (undefined as S);
  };
  return {
    name: spec.name,
    description: spec.description,
    kind: spec.kind,
    validate(config, vertexId) {
      read(config, vertexId);
    },
    create(config) {
      return spec.create(read(config, "?"));
    },
  };
}
