/**
 * An actor application inside a job (Flink StateFun's DataStream integration): ingresses are streams
 * of the job routed to actor addresses, egresses are streams the job writes where it likes.
 *
 * ```ts
 * const app = new ActorApplicationBuilder("Bank")
 *   .withIngress(transfers, (t) => ({ to: { type: "account", id: String(t.from) }, body: t }))
 *   .withActor(account)
 *   .withEgress("applied")
 *   .build();
 * app.egress<[number, string, number]>("applied").writeAsText(dir);
 * ```
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import { OutputTag } from "../runtime/streaming/functions.js";
import { addressKey, addressProblem, REMOTE_DEFAULTS, type ActorRegistry, type ActorType, type Routed, type RemoteSettings } from "../runtime/actors/types.js";
import type { DataStream } from "../sdk/data-stream.js";

/** Makes the messages of one ingress record: one, several, or none (null). */
export type IngressRouter<T> = (record: T) => Routed | readonly Routed[] | null | undefined;

const EGRESS_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Collects an application's parts; `build()` adds its actors to the job. */
export class ActorApplicationBuilder {
  private readonly ingresses: Array<{ stream: DataStream<unknown>; router: IngressRouter<unknown> }> = [];
  private readonly types = new Map<string, ActorType>();
  private readonly egresses: string[] = [];
  private remote: Partial<RemoteSettings> = {};

  constructor(private readonly name = "Actors") {}

  /** Routes every record of `stream` to actors. */
  withIngress<T>(stream: DataStream<T>, router: IngressRouter<T>): this {
    if (typeof router !== "function")
      throw new ValidationError(ErrorCode.InvalidJobGraph, "withIngress(stream, router): the router must be a function record => {to, body}");
    this.ingresses.push({ stream: stream as DataStream<unknown>, router: router as IngressRouter<unknown> });
    return this;
  }

  /** Adds actor types (from `defineActor` or `remoteActor`); each type once. */
  withActor(...types: ActorType[]): this {
    for (const t of types) {
      if (this.types.has(t.type)) throw new ValidationError(ErrorCode.InvalidJobGraph, `the actor type ${t.type} is added twice`);
      this.types.set(t.type, t);
    }
    return this;
  }

  /** Declares egresses actors may write to (`ctx.egress(name, value)`). */
  withEgress(...names: string[]): this {
    for (const n of names) {
      if (!EGRESS_NAME.test(n)) throw new ValidationError(ErrorCode.InvalidJobGraph, `an egress name must match [A-Za-z0-9_-]{1,64}, got ${JSON.stringify(n)}`);
      if (!this.egresses.includes(n)) this.egresses.push(n);
    }
    return this;
  }

  /** Limits of the calls to remote types (timeout, requests in flight, batch size, reply size). */
  withRemoteSettings(settings: Partial<RemoteSettings>): this {
    for (const k of Object.keys(settings))
      if (!(k in REMOTE_DEFAULTS))
        throw new ValidationError(
          ErrorCode.InvalidJobGraph,
          `unknown remote setting ${JSON.stringify(k)}; allowed: ${Object.keys(REMOTE_DEFAULTS).join(", ")}`,
        );
    this.remote = { ...this.remote, ...settings };
    return this;
  }

  /** Adds the application to the job of its ingress streams. */
  build(): ActorApplication {
    if (this.ingresses.length === 0) throw new ValidationError(ErrorCode.InvalidJobGraph, `actor application ${this.name}: add an ingress (withIngress)`);
    if (this.types.size === 0) throw new ValidationError(ErrorCode.InvalidJobGraph, `actor application ${this.name}: add an actor type (withActor)`);
    const known = new Set(this.types.keys());
    const routed = this.ingresses.map(({ stream, router }) =>
      stream.flatMap<Routed>((record, out) => {
        const r = router(record);
        if (r === null || r === undefined) return;
        for (const m of Array.isArray(r) ? (r as readonly Routed[]) : [r as Routed]) out.collect(checkRouted(m, known));
      }),
    );
    const [first, ...rest] = routed;
    const messages = rest.length > 0 ? first!.union(...rest) : first!;
    const registry: ActorRegistry = { types: Object.fromEntries(this.types), egresses: [...this.egresses] };
    const group = `actors-${messages.graph.nodes.length}`;
    const dispatch = messages
      .keyByEnvelope((m) => addressKey(m.to))
      .operator<never>(
        "eddy.actors.dispatch",
        this.name,
        { fn: registry },
        { group, ...(Object.keys(this.remote).length > 0 ? { remote: { ...this.remote } } : {}) },
      );
    dispatch.node.coLocationGroup = group;
    // The feedback loop: messages for addresses another subtask owns go out keyed by address to the
    // feedback vertex, which hands them to the actors' subtask in its slot over the declared feedback edge.
    const feedback = messages.graph.addNode("eddy.actors.feedback", { group }, `${this.name} feedback`);
    feedback.follows = dispatch.node;
    feedback.coLocationGroup = group;
    messages.graph.connect([{ node: dispatch.node, output: 0, partitioner: "hash", hashKey: 0, key: "envelope" }], feedback);
    messages.graph.closeIteration(feedback, dispatch.node);
    return new ActorApplication(dispatch, this.egresses);
  }
}

/** An application added to a job: its egresses as streams. */
export class ActorApplication {
  /** @internal */
  constructor(
    private readonly dispatch: DataStream<never>,
    private readonly egresses: readonly string[],
  ) {}

  /** The records actors write to egress `name`. */
  egress<T>(name: string): DataStream<T> {
    if (!this.egresses.includes(name)) throw new ValidationError(ErrorCode.InvalidJobGraph, `no egress ${JSON.stringify(name)}; declare it with withEgress`);
    return this.dispatch.getSideOutput(new OutputTag<T>(name));
  }
}

/** A router's message, checked: a real address of a known type. */
function checkRouted(m: Routed, known: ReadonlySet<string>): Routed {
  const problem = typeof m === "object" && m !== null ? addressProblem(m.to) : "the router must return {to, body}";
  if (problem) throw new ValidationError(ErrorCode.InvalidJobGraph, `an ingress router made a message to a wrong address: ${problem}`);
  if (!known.has(m.to.type))
    throw new ValidationError(
      ErrorCode.UnknownActorType,
      `an ingress router sent a message to the type ${JSON.stringify(m.to.type)}, which the application does not have`,
    );
  return { to: { type: m.to.type, id: m.to.id }, body: m.body === undefined ? null : m.body };
}
