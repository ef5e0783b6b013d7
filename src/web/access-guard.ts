/**
 * Who may do what on the web server (docs/rest.md#security). Reads are GET and HEAD; every other
 * method is a write.
 *
 * - With a token (`--web-token`, `EDDY_WEB_TOKEN`): every write needs `Authorization: Bearer <token>`,
 *   even from loopback; reads need it too unless the client is on loopback. The dashboard's own files
 *   are open: the page must load before it can ask its user for the token, and they hold nothing of
 *   the cluster.
 * - Without a token (open mode): clients on loopback may read and write, nobody else may do anything.
 *
 * A client is on loopback when its socket's remote address is (127.0.0.0/8, ::1, ::ffff:127.x) and
 * its Host header names a loopback address or `localhost`: a page of another site whose name was made
 * to resolve to 127.0.0.1 (DNS rebinding) reaches the socket from loopback, but with its own name.
 * In open mode a browser's write must also come from a page of this server (its Origin header, when it
 * sends one, names the Host it asks): without a token to prove the caller, that is what keeps a page of
 * another site in a local browser from posting to the API. With a token no page can send it to us
 * without being ours (a cross-origin Authorization header needs CORS, which this server never grants).
 *
 * Tokens are compared as SHA-256 digests with `timingSafeEqual`: equal lengths whatever was sent, and
 * no early exit that would tell a client how much of its guess was right.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ErrorCode, ValidationError } from "../core/errors.js";
import { HttpError } from "./http-reply.js";

/** A web token: 16 to 4096 visible ASCII characters (it travels in a header; short ones can be guessed). */
const TOKEN_FORM = /^[\x21-\x7e]{16,4096}$/;
const BEARER = /^Bearer +(\S+) *$/i;
const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

export class AccessGuard {
  private readonly digest: Buffer | undefined;

  /** `token` undefined: open mode. Throws ValidationError for a token that is not one. */
  constructor(token: string | undefined) {
    if (token !== undefined && !TOKEN_FORM.test(token))
      throw new ValidationError(
        ErrorCode.MalformedRequest,
        "the web token must be 16 to 4096 visible ASCII characters without spaces (for example the output of `openssl rand -hex 32`)",
      );
    this.digest = token === undefined ? undefined : sha256(token);
  }

  /** True when no token is configured. */
  get openMode(): boolean {
    return this.digest === undefined;
  }

  /**
   * Throws a 401 unless `req` may go on. `dashboardFile` says that `req` asks for one of the
   * dashboard's own files (open to every client when a token is configured).
   */
  check(req: IncomingMessage, dashboardFile: boolean): void {
    const write = req.method !== "GET" && req.method !== "HEAD";
    const local = isLoopbackAddress(req.socket.remoteAddress) && isLoopbackHost(req.headers.host);
    if (this.digest === undefined) {
      if (!local)
        throw unauthorized(
          "this JobManager has no web token, so it serves only clients on its own host (loopback); start it with --web-token or EDDY_WEB_TOKEN to serve others",
        );
      if (write && !sameOrigin(req))
        throw unauthorized(
          `a write from a page of another origin (${String(req.headers.origin).slice(0, 200)}) is refused; without a web token only this server's pages may write`,
        );
      return;
    }
    if (!write && (local || dashboardFile)) return;
    const presented = BEARER.exec(req.headers.authorization ?? "")?.[1];
    if (presented === undefined)
      throw unauthorized(
        write
          ? "a write needs Authorization: Bearer <the JobManager's web token>"
          : "a read from another host than loopback needs Authorization: Bearer <the JobManager's web token>",
      );
    if (!timingSafeEqual(sha256(presented), this.digest)) throw unauthorized("the bearer token is wrong: it is not this JobManager's web token");
  }
}

/** 127.0.0.0/8, ::1, or an IPv4-mapped 127.x (a dual-stack socket's form of an IPv4 loopback client). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === "::1") return true;
  return IPV4_LOOPBACK.test(address.startsWith("::ffff:") ? address.slice(7) : address);
}

/** A Host header (port and trailing dot aside) that names loopback: `localhost`, `*.localhost`, 127.x, [::1]; or none (HTTP/1.0). */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const h = host.toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1) === "[::1]";
  const name = h.replace(/:\d*$/, "").replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost") || IPV4_LOOPBACK.test(name);
}

/** No Origin header (not a browser, or a same-origin GET), or one whose host is the Host asked. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host?.toLowerCase();
  } catch {
    return false; // "null" (a sandboxed or opaque origin) and anything else that is no URL
  }
}

function sha256(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, ErrorCode.Unauthorized, message, { "www-authenticate": "Bearer" });
}
