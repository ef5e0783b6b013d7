import { nuid } from "@nats-io/transport-node";
import { EndpointStats } from "./endpoint-stats.js";
import { type InfoResponse, MicroResponseType, type PingResponse, type ServiceIdentity, type StatsResponse } from "./responses.js";

/** ADR-32: a service name is `[A-Za-z0-9_-]+`. */
const SERVICE_NAME = /^[A-Za-z0-9_-]+$/;

/** What describes one service instance. */
export interface ServiceConfig {
  /** The kind of service (`eddy-dispatcher`); must match `[A-Za-z0-9_-]+`. */
  name: string;
  version: string;
  description: string;
  /** Fixed for the life of the instance. */
  metadata: Record<string, string>;
  /** The endpoints: name, subject, queue group ("" for a plain subscription). */
  endpoints: Array<{ name: string; subject: string; queueGroup: string }>;
}

/**
 * One NATS micro service instance: the identity of one actor (a fresh id each time it serves) and
 * the counters of its endpoints, which the actor's receive path updates through {@link endpoint}.
 */
export class ServiceInstance {
  readonly name: string;
  readonly id = nuid.next();
  readonly version: string;
  readonly description: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** RFC 3339 UTC time the instance was created. */
  readonly started = new Date().toISOString();
  private readonly endpoints = new Map<string, EndpointStats>();

  constructor(config: ServiceConfig) {
    if (!SERVICE_NAME.test(config.name)) throw new Error(`service name ${JSON.stringify(config.name)} does not match [A-Za-z0-9_-]+`);
    this.name = config.name;
    this.version = config.version;
    this.description = config.description;
    this.metadata = Object.freeze({ ...config.metadata });
    for (const e of config.endpoints) this.endpoints.set(e.name, new EndpointStats(e.name, e.subject, e.queueGroup));
  }

  /** The counters of endpoint `name`, or undefined when there is no such endpoint. */
  endpoint(name: string): EndpointStats | undefined {
    return this.endpoints.get(name);
  }

  /** True when a request naming `name` (if any) and `id` (if any) is for this instance. */
  matches(name: string | undefined, id: string | undefined): boolean {
    return (name === undefined || name === this.name) && (id === undefined || id === this.id);
  }

  ping(): PingResponse {
    return this.identity(MicroResponseType.Ping);
  }

  info(): InfoResponse {
    return { ...this.identity(MicroResponseType.Info), description: this.description, endpoints: [...this.endpoints.values()].map((e) => e.info()) };
  }

  stats(): StatsResponse {
    return { ...this.identity(MicroResponseType.Stats), started: this.started, endpoints: [...this.endpoints.values()].map((e) => e.stats()) };
  }

  private identity(type: string): ServiceIdentity {
    return { type, name: this.name, id: this.id, version: this.version, metadata: { ...this.metadata } };
  }
}
