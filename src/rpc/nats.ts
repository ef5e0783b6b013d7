import { AuthorizationError, connect, TimeoutError as NatsTimeoutError, type NatsConnection } from "@nats-io/transport-node";
import { EddyError, ErrorCode } from "../core/errors.js";
import type { Logger } from "../core/logger.js";

export type { NatsConnection };

/**
 * Who a connection is (docs/security.md): a role's user and password, TLS files (a client
 * certificate for mutual TLS, the CA that signed the server's), and the inbox prefix the role's
 * permissions allow replies on. All absent: an open server.
 */
export interface NatsAuth {
  user?: string;
  password?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** Replies to this connection's requests arrive under `<inboxPrefix>.>` (default `_INBOX`). */
  inboxPrefix?: string;
}

/**
 * Connects to NATS with Eddy's defaults; failure to reach the server is ClusterUnreachable, refused
 * credentials or certificates (the client's by the server, the server's by the client)
 * NotAuthenticated. With `log`, the connection's losses and re-establishments are logged (warn):
 * each may have lost messages. `waitMs`: a server not reachable yet is tried again every
 * {@link FIRST_CONNECT_RETRY_MS} for that long (a daemon started beside its nats-server).
 */
export async function connectNats(
  url: string,
  name: string,
  opts: { timeoutMs?: number; reconnect?: boolean; log?: Logger; auth?: NatsAuth; waitMs?: number } = {},
): Promise<NatsConnection> {
  const deadline = Date.now() + (opts.waitMs ?? 0);
  for (;;) {
    try {
      return await connectOnce(url, name, opts);
    } catch (err) {
      if (!(err instanceof EddyError && err.code === ErrorCode.ClusterUnreachable) || Date.now() + FIRST_CONNECT_RETRY_MS > deadline) throw err;
      await new Promise((r) => setTimeout(r, FIRST_CONNECT_RETRY_MS));
    }
  }
}

/** How often a connection waiting for its server tries again, ms: a local server starts in some 100 ms. */
const FIRST_CONNECT_RETRY_MS = 20;

async function connectOnce(
  url: string,
  name: string,
  opts: { timeoutMs?: number; reconnect?: boolean; log?: Logger; auth?: NatsAuth },
): Promise<NatsConnection> {
  const auth = opts.auth ?? {};
  const reconnect = opts.reconnect ?? true;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: url.split(","),
      name,
      timeout: opts.timeoutMs ?? 5_000,
      noAsyncTraces: true,
      reconnect,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 10_000,
      ...(auth.user !== undefined ? { user: auth.user, pass: auth.password ?? "" } : {}),
      ...(auth.tls ? { tls: { ...auth.tls } } : {}),
      ...(auth.inboxPrefix ? { inboxPrefix: auth.inboxPrefix } : {}),
    });
  } catch (err) {
    if (err instanceof AuthorizationError)
      throw new EddyError(
        ErrorCode.NotAuthenticated,
        `NATS at ${url} refused the connection's credentials (${auth.user === undefined ? "none were given" : `user ${auth.user}`}): ${err.message}`,
        { cause: err },
      );
    const refused = certificateRefusal(err, auth);
    if (refused) throw new EddyError(ErrorCode.NotAuthenticated, `NATS at ${url}: ${refused} (${(err as Error).message.trim()})`, { cause: err });
    // A connection that may reconnect takes a refused client certificate (a TLS alert after the
    // handshake) for a lost connection and keeps trying until its timeout: one attempt that may not
    // reconnect says why.
    if (reconnect && auth.tls && err instanceof NatsTimeoutError)
      return connectOnce(url, name, { ...opts, reconnect: false }).then(async (probe) => {
        await probe.close().catch(() => undefined); // it only answered the question
        throw new EddyError(ErrorCode.ClusterUnreachable, `cannot reach NATS at ${url}: ${(err as Error).message}`, { cause: err });
      });
    throw new EddyError(ErrorCode.ClusterUnreachable, `cannot reach NATS at ${url}: ${(err as Error).message}`, { cause: err });
  }
  if (opts.log) logConnectionEvents(nc, name, opts.log);
  return nc;
}

/**
 * TLS alerts by which a server refuses the client's certificate (or its absence): a nats-server with
 * `verify: true` sends one of these, which node raises as ERR_SSL_..._ALERT_<name> when it reads it.
 */
const REFUSED_CLIENT_CERTIFICATE = /^ERR_SSL_\w+_ALERT_(BAD_CERTIFICATE|UNSUPPORTED_CERTIFICATE|CERTIFICATE_\w+|UNKNOWN_CA|ACCESS_DENIED)$/;

/** Node's codes for a server certificate that the connection's CA does not vouch for (or not for this address). */
const UNTRUSTED_SERVER_CERTIFICATE =
  /^(UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT(_LOCALLY)?)|(DEPTH_ZERO_)?SELF_SIGNED_CERT(_IN_CHAIN)?|CERT_\w+|ERR_TLS_CERT_ALTNAME_INVALID)$/;

/** What a failed connection says about the certificates, or undefined when it was no certificate's fault. */
function certificateRefusal(err: unknown, auth: NatsAuth): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string") return undefined;
  const refused =
    auth.tls?.certFile === undefined
      ? "the server requires a client certificate and none was given"
      : `the server refused the client certificate ${auth.tls.certFile}`;
  if (REFUSED_CLIENT_CERTIFICATE.test(code)) return refused;
  // In TLS 1.3 the server judges the client's certificate only after the client finished its side of
  // the handshake and sent CONNECT: the server's alert then races the reset that the unread CONNECT
  // provokes, and the reset usually discards the alert.
  if (auth.tls && (code === "ECONNRESET" || code === "EPIPE")) return `${refused} (it reset the connection after the TLS handshake)`;
  if (UNTRUSTED_SERVER_CERTIFICATE.test(code))
    return `the server's certificate was refused: ${auth.tls?.caFile === undefined ? "no CA file was given to verify it" : `it is not valid for this address or not signed by the CA in ${auth.tls.caFile}`}`;
  return undefined;
}

/** Logs (warn) each loss and re-establishment of `nc`'s server connection until it closes. */
function logConnectionEvents(nc: NatsConnection, name: string, log: Logger): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") log.warn({ connection: name, server: s.server }, "NATS connection lost its server");
      else if (s.type === "reconnect") log.warn({ connection: name, server: s.server }, "NATS connection re-established");
    }
  })().catch(() => undefined); // the status stream ends with the connection: nothing left to log
}

/**
 * Calls `fn` each time `nc` is re-established after losing its server. Messages published around
 * the loss may be gone (NATS core is at most once): protocols that wait for one use this to give up
 * what they wait for. Returns the function that stops listening.
 */
export function onReconnect(nc: NatsConnection, fn: () => void): () => void {
  const events = nc.status()[Symbol.asyncIterator]();
  let stopped = false;
  void (async () => {
    for (let r = await events.next(); !r.done && !stopped; r = await events.next()) if (r.value.type === "reconnect") fn();
  })().catch(() => undefined); // the status stream ends with the connection: no reconnect follows
  return () => {
    stopped = true;
    void events.return?.();
  };
}
