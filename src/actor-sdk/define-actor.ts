/**
 * Actor types: `defineActor` for one whose code runs in the job, `remoteActor` for one served by any
 * NATS client (the remote protocol, docs/actors.md).
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import { ACTOR_TYPE_PATTERN, type ActorContext, type LocalActorType, type RemoteActorType } from "../runtime/actors/types.js";

/** What `defineActor` takes. */
export interface ActorDefinition<S, M> {
  /** The type's name: letters, digits, `_` and `-`, at most 64. */
  type: string;
  /** The state of an actor before its first write (a value, copied per actor, or a function making one). */
  initialState: S | (() => S);
  /** Handles one message: read and change `ctx.state`, send, send later, write to egresses. */
  onMessage(ctx: ActorContext<S>, message: M): void;
}

function checkType(type: unknown): string {
  if (typeof type !== "string" || !ACTOR_TYPE_PATTERN.test(type))
    throw new ValidationError(
      ErrorCode.InvalidJobGraph,
      `an actor type must match [A-Za-z0-9_-]{1,64} (it is a NATS subject token), got ${JSON.stringify(type) ?? String(type)}`,
    );
  return type;
}

/** An actor type with typed state `S` and messages `M`, run in the job. */
export function defineActor<S, M = unknown>(def: ActorDefinition<S, M>): LocalActorType<S, M> {
  const type = checkType(def.type);
  if (typeof def.onMessage !== "function") throw new ValidationError(ErrorCode.InvalidJobGraph, `actor type ${type}: onMessage(ctx, message) is required`);
  if (!("initialState" in def))
    throw new ValidationError(ErrorCode.InvalidJobGraph, `actor type ${type}: initialState is required (a value, or a function making one)`);
  const onMessage = def.onMessage;
  return { kind: "local", type, initialState: def.initialState, onMessage: (ctx, m) => onMessage.call(def, ctx, m) };
}

/** An actor type served outside the job on `<prefix>.fn.<type>` by any NATS client (queue groups scale it). */
export function remoteActor(type: string): RemoteActorType {
  return { kind: "remote", type: checkType(type) };
}
