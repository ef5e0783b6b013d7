/**
 * The JSON bodies of the NATS micro protocol (ADR-32, "Service API") that every Eddy service answers
 * on `$SRV.PING`, `$SRV.INFO` and `$SRV.STATS`. Field names are the protocol's (snake_case), so that
 * `nats micro ls/info/stats` and every NATS client's service client read them.
 */

/** The `type` of each response. */
export const MicroResponseType = {
  Ping: "io.nats.micro.v1.ping_response",
  Info: "io.nats.micro.v1.info_response",
  Stats: "io.nats.micro.v1.stats_response",
} as const;

/** The verbs of `$SRV.<VERB>[.<name>[.<id>]]`. */
export type MicroVerb = "PING" | "INFO" | "STATS";

/** The fields every response carries: which service instance answers. */
export interface ServiceIdentity {
  type: string;
  /** The kind of service, shared by its instances (`eddy-taskexecutor`). */
  name: string;
  /** This instance, unique among all. */
  id: string;
  /** SemVer of the Eddy package. */
  version: string;
  metadata: Record<string, string>;
}

/** `$SRV.PING`: the identity alone. */
export type PingResponse = ServiceIdentity;

/** One endpoint as `$SRV.INFO` lists it. */
export interface EndpointInfo {
  name: string;
  subject: string;
  /** Empty: the endpoint is a plain subscription, every instance receives each message. */
  queue_group: string;
  metadata: Record<string, string>;
}

/** `$SRV.INFO`: the identity, a description and the endpoints. */
export interface InfoResponse extends ServiceIdentity {
  description: string;
  endpoints: EndpointInfo[];
}

/** One endpoint's counters as `$SRV.STATS` reports them. */
export interface EndpointStatsJson {
  name: string;
  subject: string;
  queue_group: string;
  /** Requests received (refused ones too). */
  num_requests: number;
  /** Requests answered with an error: refused (fencing, validation) or failed in the handler. */
  num_errors: number;
  /** `<ErrorCode>: <message>` of the latest error; empty before the first. */
  last_error: string;
  /** Total time from arrival to reply, nanoseconds. */
  processing_time: number;
  /** processing_time / num_requests, nanoseconds (0 before the first request). */
  average_processing_time: number;
}

/** `$SRV.STATS`: the identity, when the instance started (RFC 3339, UTC) and per-endpoint counters. */
export interface StatsResponse extends ServiceIdentity {
  started: string;
  endpoints: EndpointStatsJson[];
}
