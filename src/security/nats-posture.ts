/**
 * How safe the NATS server a connection reached is, as far as a client can tell (`eddy info`): its
 * version, whether it asks for credentials and TLS, how many replicas Eddy's streams keep, how often
 * JetStream writes reach the disk; and a warning for each unsafe one.
 */
import type { NatsConnection } from "@nats-io/transport-node";

/** What `eddy info` shows of the NATS server. */
export interface NatsPosture {
  version: string;
  auth: boolean;
  tls: boolean;
  jetstream: {
    /** Replicas of the bundle store's stream (every Eddy stream is made alike); null when unknown. */
    replicas: number | null;
    /** `fixed-60s` (nats-server 2.9, not settable) or `server-config` (2.10+: `sync_interval`). */
    sync: "fixed-60s" | "server-config";
  };
  warnings: string[];
}

/** True when `version` (`2.9.10`) is at least `major.minor`. */
export function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split(".").map((p) => Number.parseInt(p, 10));
  return a > major || (a === major && b >= minor);
}

/** Reads the posture of `nc`'s server; `prefix` names the stream whose replicas are read. */
export async function natsPosture(nc: NatsConnection, prefix: string): Promise<NatsPosture> {
  const info = nc.info;
  const version = info?.version ?? "unknown";
  const auth = info?.auth_required === true;
  const tls = info?.tls_required === true || info?.tls_verify === true;
  let replicas: number | null = null;
  try {
    // JetStream's API by hand: the JetStream client library is most of what `eddy info` would load.
    const reply = await nc.request(`$JS.API.STREAM.INFO.OBJ_${prefix}_bundles`, undefined, { timeout: 2_000 });
    const n = (reply.json() as { config?: { num_replicas?: unknown } }).config?.num_replicas;
    if (typeof n === "number") replicas = n;
  } catch {
    // A role that may not read it, or no stream yet: unknown.
  }
  const sync = versionAtLeast(version, 2, 10) ? "server-config" : "fixed-60s";
  const warnings: string[] = [];
  if (!auth) warnings.push("NATS asks for no credentials: anyone who reaches it can submit code and take over the cluster (docs/security.md)");
  if (!tls && !isLoopback(nc.getServer())) warnings.push("the connection to NATS is not encrypted (TLS off) and the server is not on this host");
  if (replicas === 1) warnings.push("JetStream keeps one replica of Eddy's state: losing that server's disk loses checkpoints and job graphs");
  if (sync === "fixed-60s")
    warnings.push(
      `nats-server ${version} writes JetStream to disk every 60 s and cannot be told otherwise: a power loss may lose acknowledged checkpoints; nats-server 2.10+ with sync_interval: always does not`,
    );
  return { version, auth, tls, jetstream: { replicas, sync }, warnings };
}

function isLoopback(hostPort: string): boolean {
  const host = hostPort.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}
