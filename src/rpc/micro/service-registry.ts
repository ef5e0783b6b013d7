import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import type { MicroVerb } from "./responses.js";
import type { ServiceInstance } from "./service-instance.js";

/** The subject root of the discovery requests. */
export const SRV_PREFIX = "$SRV";

const registries = new WeakMap<NatsConnection, ServiceRegistry>();

/**
 * The services of one NATS connection and the one subscription, `$SRV.>`, that answers discovery
 * for all of them: a JobManager process with its Dispatcher, ResourceManager and JobMasters holds
 * one subscription, not three per service. The subscription exists while at least one service is
 * registered, so a process that serves nothing (a standby JobManager) adds none.
 */
export class ServiceRegistry {
  private readonly services = new Set<ServiceInstance>();
  private sub: Subscription | undefined;

  private constructor(private readonly nc: NatsConnection) {}

  /** The registry of `nc` (created on first use). */
  static of(nc: NatsConnection): ServiceRegistry {
    let r = registries.get(nc);
    if (!r) registries.set(nc, (r = new ServiceRegistry(nc)));
    return r;
  }

  /** Makes `service` answer discovery from now on. */
  add(service: ServiceInstance): void {
    this.services.add(service);
    this.sub ??= this.nc.subscribe(`${SRV_PREFIX}.>`, {
      callback: (err, msg) => {
        if (!err) this.answer(msg);
      },
    });
  }

  /** Stops `service` answering (synchronously: the next request no longer sees it). */
  remove(service: ServiceInstance): void {
    if (!this.services.delete(service) || this.services.size > 0) return;
    this.sub?.unsubscribe();
    this.sub = undefined;
  }

  /** The services registered now. */
  list(): ServiceInstance[] {
    return [...this.services];
  }

  /**
   * Answers `$SRV.<VERB>[.<name>[.<id>]]` once per matching service. Any other subject under `$SRV`
   * (another verb, more tokens, no reply subject) is not for this protocol version and gets no answer.
   */
  private answer(msg: Msg): void {
    if (!msg.reply) return;
    const request = parseDiscoverySubject(msg.subject);
    if (!request) return;
    for (const s of this.services) {
      if (!s.matches(request.name, request.id)) continue;
      const body = request.verb === "PING" ? s.ping() : request.verb === "INFO" ? s.info() : s.stats();
      msg.respond(JSON.stringify(body));
    }
  }
}

/** `$SRV.<VERB>[.<name>[.<id>]]` taken apart, or undefined when `subject` is not such a request. */
export function parseDiscoverySubject(subject: string): { verb: MicroVerb; name?: string; id?: string } | undefined {
  const t = subject.split(".");
  if (t.length < 2 || t.length > 4 || t[0] !== SRV_PREFIX) return undefined;
  const verb = t[1];
  if (verb !== "PING" && verb !== "INFO" && verb !== "STATS") return undefined;
  return { verb, ...(t[2] !== undefined ? { name: t[2] } : {}), ...(t[3] !== undefined ? { id: t[3] } : {}) };
}
