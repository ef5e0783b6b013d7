/** The settings of `eddy.actors.dispatch` (its vertex config), checked. */
import { EddyError, ErrorCode } from "../../../core/errors.js";
import { configError, intSetting, stringSetting } from "../../invokable-common.js";
import { inputsSetting, refSetting, sidesSetting, type InputSpec } from "../../streaming/stream-operator.js";
import { REMOTE_DEFAULTS, type ActorRegistry, type RemoteSettings } from "../../actors/types.js";

export const ACTOR_DISPATCH = "eddy.actors.dispatch";
const NAME = ACTOR_DISPATCH;

export interface ActorDispatchSettings {
  fn: string;
  inputs: InputSpec[];
  sides: string[];
  remote: RemoteSettings;
  /** The co-location group shared with the feedback vertex; absent: one subtask owns every address. */
  group: string | undefined;
}

export function actorDispatchSettings(config: Record<string, unknown>, vertexId: string): ActorDispatchSettings {
  const inputs = inputsSetting(config, NAME, vertexId);
  if (inputs.some((i) => i.key !== "envelope")) configError(NAME, vertexId, 'every input must be keyed by address (config.inputs[i].key "envelope")');
  const r = (config.remote ?? {}) as Record<string, unknown>;
  if (typeof r !== "object" || r === null || Array.isArray(r)) configError(NAME, vertexId, "config.remote must be an object");
  for (const k of Object.keys(r))
    if (!(k in REMOTE_DEFAULTS))
      configError(NAME, vertexId, `config.remote has the unknown setting ${JSON.stringify(k)}; allowed: ${Object.keys(REMOTE_DEFAULTS).join(", ")}`);
  const num = (k: keyof RemoteSettings, max: number) => intSetting(r, k, { min: 1, max, dflt: REMOTE_DEFAULTS[k] }, NAME, vertexId);
  return {
    fn: refSetting(config, "fn", NAME, vertexId)!,
    inputs,
    sides: sidesSetting(config, NAME, vertexId),
    group: config.group === undefined ? undefined : stringSetting(config, "group", NAME, vertexId),
    remote: {
      timeoutMs: num("timeoutMs", 3_600_000),
      maxInFlight: num("maxInFlight", 100_000),
      maxBatch: num("maxBatch", 100_000),
      maxReplyBytes: num("maxReplyBytes", 64 * 1024 * 1024),
    },
  };
}

/** The application's registry a config's `fn` names, checked for its shape. */
export function checkRegistry(r: ActorRegistry, vertexId: string): ActorRegistry {
  if (typeof r !== "object" || r === null || typeof r.types !== "object" || !Array.isArray(r.egresses))
    throw new EddyError(ErrorCode.InvalidJobGraph, `vertex "${vertexId}": config.fn must name an actor registry {types, egresses}`);
  return r;
}
