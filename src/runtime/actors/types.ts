/**
 * The shapes of Eddy's stateful actors (Flink StateFun's functions) shared by the SDK (src/actor-sdk)
 * and the operator that runs them: addresses, messages in flight, the definition of an actor type, and
 * what an actor sees while it handles a message. Plain data only: envelopes are checkpointed and cross
 * thread and process boundaries.
 */

/** An actor type: a NATS subject token, since a remote type is served on `<prefix>.fn.<type>`. */
export const ACTOR_TYPE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Longest actor id (characters). */
export const MAX_ACTOR_ID_LENGTH = 256;

/** Where a message goes: an actor of a type, by id. */
export interface Address {
  readonly type: string;
  readonly id: string;
}

/** A message on its way to an actor; `from` is null for a message from an ingress. */
export interface Envelope {
  to: Address;
  from: Address | null;
  body: unknown;
}

/** A message an ingress's router makes from one record. */
export interface Routed<M = unknown> {
  to: Address;
  body: M;
}

/** What an actor's `onMessage` works with. */
export interface ActorContext<S> {
  /** This actor's address. */
  readonly self: Address;
  /** Who sent the message: an actor's address, or null for an ingress. */
  readonly caller: Address | null;
  /** The actor's state (its type's initial state until the first write); changes are kept when `onMessage` returns. */
  state: S;
  /** Forgets the state: the next message starts from the initial state again. */
  clearState(): void;
  /** Sends `message` to the actor at `to` (delivered after this message is handled). */
  send(to: Address, message: unknown): void;
  /** Sends `message` to `to` after `delayMs` milliseconds (kept in checkpoints until it is delivered). */
  sendAfter(delayMs: number, to: Address, message: unknown): void;
  /** Writes `value` to the egress `name`. */
  egress(name: string, value: unknown): void;
}

/** An actor type whose code runs in the job. */
export interface LocalActorType<S = unknown, M = unknown> {
  readonly kind: "local";
  readonly type: string;
  /** The state of an actor before its first write: a value (copied per actor) or a function making one. */
  readonly initialState: S | (() => S);
  onMessage(ctx: ActorContext<S>, message: M): void;
}

/** An actor type served by any NATS client on `<prefix>.fn.<type>` (the remote protocol). */
export interface RemoteActorType {
  readonly kind: "remote";
  readonly type: string;
}

export type ActorType = LocalActorType<never, never> | LocalActorType | RemoteActorType;

/** Limits of the calls to remote actor types. */
export interface RemoteSettings {
  /** How long a remote function has to answer (ms). */
  timeoutMs: number;
  /** Most requests in flight at once (each for another address). */
  maxInFlight: number;
  /** Most messages for one address in one request. */
  maxBatch: number;
  /** Largest reply accepted (bytes). */
  maxReplyBytes: number;
}

export const REMOTE_DEFAULTS: RemoteSettings = { timeoutMs: 10_000, maxInFlight: 64, maxBatch: 100, maxReplyBytes: 1024 * 1024 };

/** What the actor operator gets from the job's code: its types and egresses. */
export interface ActorRegistry {
  readonly types: Readonly<Record<string, ActorType>>;
  readonly egresses: readonly string[];
}

/** The key of an address in the keyed state backend: `<type>/<id>` (a type has no `/`). */
export function addressKey(a: Address): string {
  return `${a.type}/${a.id}`;
}

/** The address of a key made by {@link addressKey}. */
export function keyAddress(key: string): Address {
  const i = key.indexOf("/");
  return { type: key.slice(0, i), id: key.slice(i + 1) };
}

/** Why `a` is no address (undefined when it is one). */
export function addressProblem(a: unknown): string | undefined {
  if (typeof a !== "object" || a === null) return "an address must be an object {type, id}";
  const { type, id } = a as { type?: unknown; id?: unknown };
  if (typeof type !== "string" || !ACTOR_TYPE_PATTERN.test(type))
    return `the address type ${JSON.stringify(type) ?? String(type)} must match [A-Za-z0-9_-]{1,64}`;
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_ACTOR_ID_LENGTH)
    return `the address id ${JSON.stringify(id) ?? String(id)} must be a string of 1 to ${MAX_ACTOR_ID_LENGTH} characters`;
  return undefined;
}
