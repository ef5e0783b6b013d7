/** Who may read and write on the web server (src/web/access-guard.ts), and where the JobManager's web token comes from. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { AccessGuard, isLoopbackAddress, isLoopbackHost } from "../../src/web/access-guard.js";
import { HttpError } from "../../src/web/http-reply.js";
import { ErrorCode } from "../../src/core/errors.js";
import { parseArgs } from "../../src/cli/args.js";
import { COMMANDS } from "../../src/cli/commands.js";
import { webOptions } from "../../src/cli/daemon-commands.js";
import { withCode } from "../helpers/error-code.js";

const TOKEN = "s3cret-token-0123456789";

/** A request as the guard sees it: method, the socket's remote address, headers. */
function req(method: string, from: string, headers: Record<string, string> = {}): IncomingMessage {
  return { method, socket: { remoteAddress: from }, headers: { host: "127.0.0.1:8081", ...headers } } as unknown as IncomingMessage;
}

/** The guard's verdict: "ok", or the 401's message. */
function verdict(guard: AccessGuard, r: IncomingMessage, dashboardFile = false): string {
  try {
    guard.check(r, dashboardFile);
    return "ok";
  } catch (err) {
    assert.ok(err instanceof HttpError, String(err));
    assert.equal(err.status, 401);
    assert.equal(err.code, ErrorCode.Unauthorized);
    assert.equal(err.headers["www-authenticate"], "Bearer");
    return err.message;
  }
}

test("loopback is 127.0.0.0/8, ::1 and ::ffff:127.x by socket, and localhost or a loopback address by Host", () => {
  for (const a of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) assert.ok(isLoopbackAddress(a), a);
  for (const a of ["10.0.0.1", "::ffff:10.0.0.1", "fd00::2", "128.0.0.1", "", undefined]) assert.ok(!isLoopbackAddress(a), String(a));
  for (const h of ["127.0.0.1:8081", "localhost", "LOCALHOST:80", "app.localhost:1", "localhost.:8081", "[::1]:8081", undefined])
    assert.ok(isLoopbackHost(h), String(h));
  for (const h of ["evil.example:8081", "192.0.2.2:8081", "[fd00::2]:8081", "localhost.evil.example", "127.0.0.1.evil.example"])
    assert.ok(!isLoopbackHost(h), h);
});

test("with a token, every write needs it, even from loopback; reads need it only from other hosts", () => {
  const g = new AccessGuard(TOKEN);
  const bearer = { authorization: `Bearer ${TOKEN}` };
  assert.equal(verdict(g, req("GET", "127.0.0.1")), "ok");
  assert.match(verdict(g, req("PATCH", "127.0.0.1")), /a write needs Authorization: Bearer/);
  assert.match(verdict(g, req("POST", "127.0.0.1", { authorization: `Bearer ${TOKEN}x` })), /token is wrong/);
  assert.match(verdict(g, req("PUT", "127.0.0.1", { authorization: `Basic ${TOKEN}` })), /needs Authorization/);
  assert.equal(verdict(g, req("PATCH", "127.0.0.1", bearer)), "ok");
  assert.equal(verdict(g, req("DELETE", "::1", { authorization: `bearer ${TOKEN}` })), "ok", "the scheme is case-insensitive");
  assert.match(verdict(g, req("OPTIONS", "::1")), /a write needs/, "any method but GET and HEAD is a write");

  assert.match(verdict(g, req("GET", "192.0.2.7", { host: "192.0.2.2:8081" })), /a read from another host/);
  assert.match(verdict(g, req("HEAD", "192.0.2.7", { host: "192.0.2.2:8081" })), /a read from another host/);
  assert.equal(verdict(g, req("GET", "192.0.2.7", { host: "192.0.2.2:8081", ...bearer })), "ok");
  assert.equal(verdict(g, req("GET", "192.0.2.7", { host: "192.0.2.2:8081" }), true), "ok", "the dashboard's files load anywhere: the page asks for the token");
  assert.match(verdict(g, req("POST", "192.0.2.7", { host: "192.0.2.2:8081" }), true), /a write needs/);
  assert.match(verdict(g, req("GET", "127.0.0.1", { host: "evil.example:8081" })), /a read from another host/, "a rebound name is not loopback");
});

test("without a token (open mode) loopback clients read and write, other hosts get nothing, and other sites' pages cannot write", () => {
  const g = new AccessGuard(undefined);
  assert.ok(g.openMode);
  assert.equal(verdict(g, req("GET", "127.0.0.1")), "ok");
  assert.equal(verdict(g, req("PATCH", "::ffff:127.0.0.1")), "ok");
  assert.equal(verdict(g, req("POST", "127.0.0.1", { origin: "http://127.0.0.1:8081" })), "ok", "the dashboard's own page");
  assert.match(verdict(g, req("POST", "127.0.0.1", { origin: "https://evil.example" })), /another origin/);
  assert.match(verdict(g, req("POST", "127.0.0.1", { origin: "null" })), /another origin/);
  assert.equal(verdict(g, req("GET", "127.0.0.1", { origin: "https://evil.example" })), "ok", "reads are the same-origin policy's to guard");
  assert.match(verdict(g, req("GET", "192.0.2.7", { host: "192.0.2.2:8081" })), /no web token/);
  assert.match(verdict(g, req("GET", "192.0.2.7", { host: "192.0.2.2:8081", authorization: `Bearer ${TOKEN}` }), true), /no web token/);
  assert.match(verdict(g, req("GET", "127.0.0.1", { host: "evil.example" })), /no web token/);
});

test("a web token is 16 to 4096 visible ASCII characters", () => {
  for (const bad of ["", "short", "with a space 0123456789", `${"x".repeat(20)}\u00e9`, "x".repeat(4097)])
    assert.throws(() => new AccessGuard(bad), withCode(ErrorCode.MalformedRequest, /16 to 4096 visible ASCII/), JSON.stringify(bad.slice(0, 30)));
  assert.ok(!new AccessGuard("x".repeat(16)).openMode);
});

test("eddy jobmanager takes the web token from --web-token, else EDDY_WEB_TOKEN; an empty variable is none", () => {
  const args = (...a: string[]) => parseArgs(["jobmanager", ...a], COMMANDS);
  assert.equal(webOptions(args("--web-token", "from-flag-0123456789"), { EDDY_WEB_TOKEN: "from-env-0123456789" }).web?.token, "from-flag-0123456789");
  assert.equal(webOptions(args(), { EDDY_WEB_TOKEN: "from-env-0123456789" }).web?.token, "from-env-0123456789");
  assert.equal(webOptions(args(), { EDDY_WEB_TOKEN: "" }).web?.token, undefined);
  assert.equal(webOptions(args(), {}).web?.token, undefined);
  assert.deepEqual(webOptions(args("--web-port", "-1"), { EDDY_WEB_TOKEN: "from-env-0123456789" }), {});
});
