/**
 * The context a local actor's `onMessage` gets: one object per subtask, reused for every message (the
 * dispatch points it at the message's actor before the call), whose effects go to the dispatch.
 */
import { EddyError, ErrorCode } from "../../core/errors.js";
import { MAX_DELAY_MS } from "./remote-protocol.js";
import type { ActorContext, Address, Envelope } from "./types.js";

/** Where an actor's effects go. */
export interface ActorEffects {
  /** A message to deliver after this one. */
  send(e: Envelope): void;
  /** A message to deliver at `due` (ms since the epoch). */
  sendAt(due: number, e: Envelope): void;
  /** A record for the egress `name` (declared: checked by the context). */
  egress(name: string, value: unknown): void;
  /** The address an actor sends to, checked (a well-formed address of a known type) and copied. */
  target(to: Address, from: Address): Address;
}

export class LocalActorContext implements ActorContext<unknown> {
  self: Address = { type: "", id: "" };
  caller: Address | null = null;
  state: unknown = undefined;
  /** `clearState` was called while handling the current message. */
  cleared = false;

  constructor(
    private readonly effects: ActorEffects,
    private readonly egresses: ReadonlySet<string>,
  ) {}

  /** Points the context at the actor of the next message. */
  enter(self: Address, caller: Address | null, state: unknown): void {
    this.self = self;
    this.caller = caller;
    this.state = state;
    this.cleared = false;
  }

  clearState(): void {
    this.cleared = true;
    this.state = undefined;
  }

  send(to: Address, message: unknown): void {
    this.effects.send({ to: this.effects.target(to, this.self), from: this.self, body: message });
  }

  sendAfter(delayMs: number, to: Address, message: unknown): void {
    if (!(Number.isFinite(delayMs) && delayMs >= 0 && delayMs <= MAX_DELAY_MS))
      throw new EddyError(ErrorCode.TaskFailed, `actor ${this.self.type}/${this.self.id}: sendAfter's delay must be 0 to ${MAX_DELAY_MS} ms, got ${delayMs}`);
    this.effects.sendAt(Date.now() + delayMs, { to: this.effects.target(to, this.self), from: this.self, body: message });
  }

  egress(name: string, value: unknown): void {
    if (!this.egresses.has(name))
      throw new EddyError(
        ErrorCode.TaskFailed,
        `actor ${this.self.type}/${this.self.id} wrote to the egress ${JSON.stringify(name)}, which the application does not declare`,
      );
    this.effects.egress(name, value);
  }
}
