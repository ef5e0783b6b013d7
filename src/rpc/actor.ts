import { subscribeProtocol } from "./stream-delivery.js";
import type { NatsConnection, Msg, Subscription } from "@nats-io/transport-node";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { decode, encode, contentTypeOf, type ContentType } from "../codec/codec.js";
import { EddyError, ErrorCode, FencingTokenError, ValidationError, toEddyError } from "../core/errors.js";
import { Limits } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import { silentLogger } from "../core/logger.js";
import { Header } from "./headers.js";
import { Mailbox } from "./mailbox.js";
import { orTimeout } from "../core/time.js";
import { packageVersion } from "../core/package.js";
import { ServiceInstance, ServiceRegistry } from "./micro/index.js";

/** What a handler learns about the message besides its body. */
export interface CallContext {
  /** The fencing token the message carried, if any. */
  token: string | undefined;
  /** The sender header, if any. */
  sender: string | undefined;
  /** The encoding of the request (the reply uses the same). */
  contentType: ContentType;
}

/**
 * Who may call a method. `"none"`: anyone (declared unfenced). `"leader"`: the message must carry
 * the actor's own current fencing token. A function: a custom check (sessions, such as a
 * TaskExecutor accepting only the JobMaster that holds a slot); it throws a FencingTokenError.
 */
export type Fence = "none" | "leader" | ((ctx: CallContext, body: unknown) => void);

/** One method an actor serves. */
// biome-ignore lint/suspicious/noExplicitAny: an actor's method table mixes specs of every body type; unknown would reject handlers that take a narrowed body
export interface MethodSpec<B = any, R = any> {
  fence: Fence;
  /** Validates and narrows the untrusted body; throws ValidationError. */
  parse?: (body: unknown) => B;
  /** Runs in the actor's mailbox, one message at a time. Return {@link later} to reply outside it. */
  handle: (body: B, ctx: CallContext) => R | Promise<R> | Later<R>;
  /** Largest body accepted, bytes (default Limits.maxRequestBytes). */
  maxBytes?: number;
}

/** How an actor serves (see {@link Actor.serve}). */
export interface ServeOptions {
  /** Queue group of the actor's subscription (none: every instance receives each message). */
  queue?: string;
  /**
   * Makes the actor a NATS micro service (ADR-32) named `<prefix>-<role>`, its methods the
   * endpoints, answering `$SRV.PING/INFO/STATS` while it serves (docs/discovery.md).
   */
  service?: { role: string; metadata?: Record<string, string> };
}

/** A reply that is sent when `promise` settles, without holding the mailbox (long polls). */
export class Later<R> {
  constructor(readonly promise: Promise<R>) {}
}
/** Wraps a promise whose settlement is the reply, outside the mailbox. */
export function later<R>(promise: Promise<R>): Later<R> {
  return new Later(promise);
}

/**
 * A fenced actor addressed by a NATS subject: `<address>.<method>`. On arrival a message is
 * size-checked, then (leader fences) token-checked, decoded and parsed, then (session fences,
 * which need the body) token-checked; only then does it reach its handler in the mailbox, where a
 * leader fence is checked once more against the token current at that moment.
 */
export abstract class Actor {
  protected readonly mailbox = new Mailbox();
  protected log: Logger = silentLogger();
  private sub: Subscription | undefined;
  /** The discovery identity and endpoint counters, when the actor is a service; registered on `registry`. */
  private service: ServiceInstance | undefined;
  private registry: ServiceRegistry | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Set by {@link fenceOff}: the actor's term ended; every message is refused from now on. */
  private fenced = false;
  private inflight = new Set<Promise<unknown>>();

  /** The subject prefix this actor is reached under. */
  abstract readonly address: string;
  /** The method table. */
  protected abstract methods(): Record<string, MethodSpec>;
  /** The current fencing token for `"leader"` methods (undefined: not leading, everything refused). */
  protected fencingToken(): string | undefined {
    return undefined;
  }

  private methodTable: Record<string, MethodSpec> | undefined;

  /** Subscribes the actor on `nc` and, with `opts.service`, makes it discoverable. */
  protected serve(nc: NatsConnection, opts: ServeOptions = {}): void {
    const { queue, service } = opts;
    this.methodTable = this.methods();
    this.sub = subscribeProtocol(nc, `${this.address}.*`, (msg) => void this.onMessage(msg), queue ? { queue } : {});
    if (service) {
      this.service = this.describeService(service.role, service.metadata ?? {}, queue ?? "");
      this.registry = ServiceRegistry.of(nc);
      this.registry.add(this.service);
    }
  }

  /** This actor as a micro service: `<prefix>-<role>`, one endpoint per method. */
  private describeService(role: string, metadata: Record<string, string>, queueGroup: string): ServiceInstance {
    // The prefix (config.ts: [A-Za-z0-9_-]+) is the address's first token, whatever the actor.
    const prefix = this.address.slice(0, this.address.indexOf("."));
    return new ServiceInstance({
      name: `${prefix}-${role}`,
      version: packageVersion(),
      description: `Eddy ${role} at ${this.address}`,
      metadata: { ...metadata, prefix, address: this.address, pid: String(process.pid) },
      endpoints: Object.keys(this.methodTable ?? {}).map((m) => ({ name: m, subject: `${this.address}.${m}`, queueGroup })),
    });
  }

  /** The actor's discovery identity and endpoint counters, while it serves as a service. */
  get serviceInstance(): ServiceInstance | undefined {
    return this.registry ? this.service : undefined;
  }

  /** Leaves discovery at once (idempotent): a fenced-off or stopped actor is no service any more. */
  private leaveDiscovery(): void {
    if (this.service) this.registry?.remove(this.service);
    this.registry = undefined;
  }

  /**
   * Ends the actor's leadership term at once: unsubscribes (synchronously) and refuses every message
   * still queued or arriving (`NotLeader`), while its mailbox keeps running for the shutdown that
   * follows. Used when the lease is revoked, before anything asynchronous happens.
   */
  fenceOff(): void {
    this.fenced = true;
    this.sub?.unsubscribe();
    this.sub = undefined;
    this.leaveDiscovery();
  }

  /** True once {@link fenceOff} ran. */
  protected get isFencedOff(): boolean {
    return this.fenced;
  }

  /**
   * Calls a public (unfenced) method of this actor from its own process as a request would reach it,
   * without the round trip through NATS and the encoding: the reads that the web server of the
   * leading JobManager makes. The answer is a copy, as a decoded reply is; a fenced-off actor
   * refuses with NotLeader like its subscription would.
   */
  async callLocal<R>(method: string, body: unknown): Promise<R> {
    const spec = this.methodTable?.[method];
    if (spec?.fence !== "none") throw new ValidationError(ErrorCode.UnknownMethod, `${this.address} has no public method ${JSON.stringify(method)}`);
    const parsed = spec.parse ? spec.parse(body) : body;
    let result: unknown = await this.mailbox.run(() => {
      if (this.fenced || this.stopped) throw new EddyError(ErrorCode.NotLeader, `${this.address} no longer leads; ask the current leader`);
      return spec.handle(parsed, { token: undefined, sender: undefined, contentType: "msgpack" });
    });
    if (result instanceof Later) result = await result.promise;
    return structuredClone(result ?? { ok: true }) as R;
  }

  /** Runs `fn` in this actor's mailbox (to re-enter after asynchronous work). */
  runInMailbox<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.mailbox.run(fn);
  }

  /** Posts `fn` to the mailbox without waiting: dropped once the actor stopped, failures logged. */
  protected post(fn: () => unknown): void {
    if (this.stopped) return;
    this.mailbox.run(fn).catch((err) => {
      if (!this.stopped) this.log.error({ err }, "mailbox task failed");
    });
  }

  /** A timer cleared on stop; its callback runs in the mailbox. */
  protected schedule(ms: number, fn: () => void | Promise<void>): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) void this.mailbox.run(fn).catch((e) => this.log.error({ err: e }, "scheduled task failed"));
    }, ms);
    this.timers.add(t);
    return t;
  }

  /** A repeating timer cleared on stop; its callback runs in the mailbox. */
  protected every(ms: number, fn: () => void | Promise<void>): NodeJS.Timeout {
    const t = setInterval(() => {
      if (!this.stopped && this.mailbox.size < 100) void this.mailbox.run(fn).catch((e) => this.log.error({ err: e }, "periodic task failed"));
    }, ms);
    this.timers.add(t);
    return t;
  }

  protected cancelTimer(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    clearInterval(t);
    this.timers.delete(t);
  }

  /** Starts background work whose completion is awaited on stop. */
  protected background(p: Promise<unknown>): void {
    const q = p.catch((e) => this.log.error({ err: e }, "background work failed")).finally(() => this.inflight.delete(q));
    this.inflight.add(q);
  }

  /** Unsubscribes, clears every timer and waits (bounded) for background work. */
  async stopActor(waitMs = 2_000): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.timers.clear();
    this.sub?.unsubscribe();
    this.sub = undefined;
    this.leaveDiscovery();
    this.mailbox.close();
    if (this.inflight.size) await orTimeout(Promise.allSettled([...this.inflight]), waitMs);
  }

  protected get isStopped(): boolean {
    return this.stopped;
  }

  private async onMessage(msg: Msg): Promise<void> {
    const t0 = performance.now();
    const method = msg.subject.slice(this.address.length + 1);
    // Counted even after the actor left discovery: a request it still answers is one it served.
    const stats = this.service?.endpoint(method);
    const ctype = contentTypeOf(msg.headers?.get(Header.ContentType));
    const ctx: CallContext = {
      token: msg.headers?.get(Header.Fence) || undefined,
      sender: msg.headers?.get(Header.Sender) || undefined,
      contentType: ctype,
    };
    try {
      const spec = this.methodTable?.[method];
      if (!spec) throw new ValidationError(ErrorCode.UnknownMethod, `${this.address} has no method ${JSON.stringify(method)}`);
      const max = spec.maxBytes ?? Limits.maxRequestBytes;
      if (msg.data.length > max)
        throw new ValidationError(ErrorCode.PayloadTooLarge, `request of ${msg.data.length} bytes exceeds the limit of ${max} bytes for ${method}`);
      // A leader fence needs no body: strangers are refused before their bytes are even decoded.
      if (spec.fence === "leader") checkFence(spec.fence, ctx, undefined, this.fenced ? undefined : this.fencingToken(), this.address);
      const raw = decode(msg.data, ctype);
      const body = spec.parse ? spec.parse(raw) : raw;
      let result: unknown = await this.mailbox.run(() => {
        if (this.fenced) throw new EddyError(ErrorCode.NotLeader, `${this.address} no longer leads; ask the current leader`);
        checkFence(spec.fence, ctx, body, this.fencingToken(), this.address);
        return spec.handle(body, ctx);
      });
      if (result instanceof Later) result = await result.promise;
      if (msg.reply) msg.respond(encode(result ?? { ok: true }, ctype), { headers: replyHeaders(ctype) });
      stats?.record(performance.now() - t0);
    } catch (err) {
      const e = toEddyError(err);
      stats?.recordError(performance.now() - t0, e.code, e.message);
      if (e.code === ErrorCode.InternalError) this.log.error({ err, method }, "handler failed");
      else this.log.debug({ code: e.code, method, reason: e.message }, "request refused");
      if (msg.reply) {
        try {
          msg.respond(encode({ error: e.toWire(e.code === ErrorCode.InternalError) }, ctype), { headers: replyHeaders(ctype, e) });
        } catch (e2) {
          this.log.error({ err: e2 }, "cannot send error reply");
        }
      }
    }
  }
}

function replyHeaders(ctype: ContentType, error?: EddyError) {
  const h = natsHeaders();
  if (ctype === "json") h.set(Header.ContentType, "application/json");
  if (error) {
    h.set(Header.Error, "1");
    h.set(Header.ServiceError, `${error.code}: ${error.message}`.replace(/[\r\n]+/g, " ").slice(0, 500));
    h.set(Header.ServiceErrorCode, error.code === ErrorCode.InternalError ? "500" : "400");
  }
  return h;
}

function checkFence(fence: Fence, ctx: CallContext, body: unknown, current: string | undefined, address: string): void {
  if (fence === "none") return;
  if (fence === "leader") {
    if (current === undefined) throw new FencingTokenError(`${address} is not leading; message refused`);
    if (!ctx.token) throw new FencingTokenError(`message to ${address} carries no fencing token`);
    if (ctx.token !== current) throw new FencingTokenError(`message to ${address} carries a stale fencing token`);
    return;
  }
  fence(ctx, body);
}

/** Throws unless `token` equals `expected` (a helper for session fences). */
export function requireToken(token: string | undefined, expected: string | undefined, what: string): void {
  if (!token) throw new FencingTokenError(`${what}: message carries no fencing token`);
  if (expected === undefined || token !== expected) throw new FencingTokenError(`${what}: fencing token does not match the current session`);
}

export { EddyError };
