/**
 * The JobManager's HTTP server (Flink's WebMonitorEndpoint): node:http, no framework. It serves the
 * REST API, the live events, `/metrics` and the dashboard on every JobManager, leader or standby:
 * jobs are read from the leading Dispatcher over NATS, metrics from this process's MetricStore.
 *
 * Nothing a client sends can stop or hang the process: request bodies are bounded, requests and
 * headers time out, every request runs in its own try/catch, live connections are bounded, and
 * every read of the cluster has a timeout. Who may read and write is the AccessGuard's to say, before
 * a request reaches its route; every answer carries the security headers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { NatsConnection } from "@nats-io/transport-node";
import { EddyError, ErrorCode } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Subjects } from "../rpc/subjects.js";
import type { MetricQuery } from "../metrics/types.js";
import { AccessGuard, isLoopbackHost } from "./access-guard.js";
import { DispatcherReader, type LocalDispatcher } from "./dispatcher-reader.js";
import { HttpError, sendError, sendJson } from "./http-reply.js";
import { LiveEvents } from "./live-events.js";
import { RestApi } from "./rest-api.js";
import { isDashboardFile, restRoutes, type Handler } from "./rest-routes.js";
import type { Router } from "./router.js";
import { SavepointOperations } from "./savepoint-operations.js";
import { StaticFiles } from "./static-files.js";
import { CONTENT_SECURITY_POLICY, SECURITY_HEADER_LINES, SECURITY_HEADERS } from "./security-headers.js";

/** The default port (Flink's rest.port). */
export const DEFAULT_WEB_PORT = 8081;
/** The default address: this host only. */
export const DEFAULT_WEB_HOST = "127.0.0.1";

export interface WebServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** When `port` is taken, listen on a free one instead of failing (the default port was not asked for explicitly). */
  freePortIfTaken?: boolean;
  nc: NatsConnection;
  subjects: Subjects;
  metrics: MetricQuery;
  log: Logger;
  version: string;
  /** The Dispatcher of this process while it leads: reads skip NATS (a standby's go to the leader). */
  localDispatcher?: () => LocalDispatcher | undefined;
  /**
   * The bearer token that writes (and reads from other hosts than loopback) need; without one the
   * server is in open mode: loopback clients may read and write, others nothing (docs/rest.md#security).
   */
  token?: string;
}

export interface WebServer {
  /** `http://host:port` as clients reach it. */
  readonly url: string;
  close(): Promise<void>;
}

/** Longest time to receive a request's headers and body, ms. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Longest time one request may take to answer (a stuck read answers 503), ms. */
const HANDLER_TIMEOUT_MS = 15_000;
/** Open sockets at most (live event streams are bounded lower). */
const MAX_CONNECTIONS = 512;

/** Starts listening; rejects with WebServerFailed when the address cannot be used. */
export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const log = opts.log;
  const guard = new AccessGuard(opts.token);
  const api = new RestApi(new DispatcherReader(opts.nc, opts.subjects, opts.localDispatcher), opts.metrics, opts.version);
  const events = new LiveEvents(api, log);
  const routes = restRoutes({
    api,
    events,
    savepoints: new SavepointOperations(),
    files: new StaticFiles(),
    config: () => flinkConfig(opts.version),
  });
  const server = createServer(
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: 5_000, keepAliveTimeout: 5_000 },
    (req, res) => void handle(routes, guard, req, res, log),
  );
  server.maxConnections = MAX_CONNECTIONS;
  server.on("clientError", (err, socket) => {
    if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\n${SECURITY_HEADER_LINES}connection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
    log.debug({ err }, "malformed HTTP request");
  });
  let port = opts.port;
  try {
    await listen(server, opts.host, port);
  } catch (err) {
    if (!(opts.freePortIfTaken && (err as NodeJS.ErrnoException).code === "EADDRINUSE")) throw listenFailed(opts, err);
    log.warn({ port }, "web port taken; listening on a free port instead");
    port = 0;
    await listen(server, opts.host, 0).catch((e: unknown) => Promise.reject(listenFailed(opts, e)));
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `http://${host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host}:${addr.port}`;
  log.info({ url, mode: guard.openMode ? "open" : "token" }, "web ready");
  if (guard.openMode && !isLoopbackHost(host))
    log.warn({ host: opts.host }, "the web server has no token: it answers only clients on loopback; set --web-token or EDDY_WEB_TOKEN to serve other hosts");
  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        events.close();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

function listenFailed(opts: WebServerOptions, err: unknown): EddyError {
  return new EddyError(ErrorCode.WebServerFailed, `the web server cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`, { cause: err });
}

/** Answers one request; never throws. */
async function handle(routes: Router<Handler>, guard: AccessGuard, req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
  try {
    const url = parseUrl(req.url ?? "/");
    guard.check(req, isDashboardFile(url.path));
    const { handler, params } = routes.match(req.method ?? "GET", url.path);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HttpError(503, ErrorCode.RpcTimeout, `no answer within ${HANDLER_TIMEOUT_MS} ms; retry`)), HANDLER_TIMEOUT_MS);
    });
    const reply = await Promise.race([handler({ req, res, params, query: url.query }), timeout]);
    if ("handled" in reply) return;
    if ("json" in reply) sendJson(res, reply.status ?? 200, reply.json);
    else {
      const body = typeof reply.text === "string" ? Buffer.from(reply.text) : reply.text;
      res.writeHead(reply.status ?? 200, {
        "content-type": reply.type,
        "content-length": body.length,
        ...(reply.type.startsWith("text/html") ? { "content-security-policy": CONTENT_SECURITY_POLICY } : {}),
        ...reply.headers,
      });
      res.end(req.method === "HEAD" ? undefined : body);
    }
  } catch (err) {
    const status = sendError(res, err);
    if (status >= 500 && status !== 503) log.warn({ err, method: req.method, url: req.url?.slice(0, 200) }, "web request failed");
  } finally {
    clearTimeout(timer);
  }
}

/** The path (its segments URL-decoded) and query of a request target; 400 when it is not one. */
function parseUrl(raw: string): { path: string; query: URLSearchParams } {
  if (raw.length > 8_192) throw new HttpError(400, ErrorCode.MalformedRequest, "the request target is longer than 8192 characters");
  let u: URL;
  try {
    u = new URL(raw, "http://localhost");
  } catch {
    throw new HttpError(400, ErrorCode.MalformedRequest, "the request target is not a URL path");
  }
  let segments: string[];
  try {
    segments = u.pathname.split("/").map((x) => decodeURIComponent(x));
  } catch {
    throw new HttpError(400, ErrorCode.MalformedRequest, "the request path is not valid percent-encoding");
  }
  // A decoded segment holding a separator or a dot segment names no resource of this server.
  if (segments.some((x) => x.includes("/") || x.includes("\\") || x === ".." || x === "." || x.includes("\0")))
    throw new HttpError(404, ErrorCode.UnknownPath, `no resource at ${u.pathname.slice(0, 200)}`);
  return { path: segments.join("/"), query: u.searchParams };
}

/** `GET /config` (Flink's DashboardConfiguration). */
function flinkConfig(version: string) {
  const now = new Date();
  return {
    "refresh-interval": 1000,
    "timezone-name": Intl.DateTimeFormat().resolvedOptions().timeZone,
    "timezone-offset": -now.getTimezoneOffset() * 60_000,
    "eddy-version": version,
    "flink-version": version,
    "flink-revision": "eddy",
    features: { "web-submit": false, "web-cancel": true, "web-rescale": true, "web-history": false, "web-savepoint": true },
  };
}
