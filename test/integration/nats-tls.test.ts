/**
 * Mutual TLS with a real nats-server: the generated CA, server certificate and client certificates,
 * and the generated `tls { verify: true }` block. A client with a certificate of the CA connects;
 * one without a certificate, with a certificate of another CA, or speaking plain NATS is refused,
 * and connectNats says NotAuthenticated. The material lives under a directory whose name needs the
 * block's quoting (a space, quotes, a backslash, a dollar sign).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode } from "../../src/core/errors.js";
import { withTimeout } from "../../src/core/time.js";
import { connectNats, type NatsAuth } from "../../src/rpc/nats.js";
import { natsTlsBlock, writeTlsMaterial, type TlsPaths } from "../../src/security/tls-material.js";
import { withCode } from "../helpers/error-code.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";

let dir: string;
let paths: TlsPaths;
let otherCa: TlsPaths;
let nats: TestNats;

const asRole = (p: TlsPaths, role: string): NatsAuth["tls"] => ({ caFile: paths.ca, certFile: p.clients[role]!.cert, keyFile: p.clients[role]!.key });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'eddy tls "quoted" \\ $dir-'));
  paths = writeTlsMaterial(join(dir, "mine"), { clients: ["admin", "worker"] });
  otherCa = writeTlsMaterial(join(dir, "other"), { clients: ["admin"] });
  nats = await startTestNats({ conf: natsTlsBlock(paths), probeAuth: { tls: asRole(paths, "admin") } });
});
after(async () => {
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a client with a certificate of the CA connects, publishes and requests", async () => {
  const nc = await connectNats(nats.url, "tls-worker", { reconnect: false, auth: { tls: asRole(paths, "worker") } });
  try {
    const echo = nc.subscribe("tls.echo");
    void (async () => {
      for await (const m of echo) m.respond(m.data);
    })();
    const seen = nc.subscribe("tls.events", { max: 1 });
    nc.publish("tls.events", "hello");
    const received = (async () => {
      for await (const m of seen) return m.string();
    })();
    assert.equal(await withTimeout(received, 5_000, "the published message"), "hello");
    const reply = await nc.request("tls.echo", "ping", { timeout: 5_000 });
    assert.equal(reply.string(), "ping");
  } finally {
    await nc.close();
  }
});

test("a client without a certificate is refused: NotAuthenticated", async () => {
  await assert.rejects(
    connectNats(nats.url, "tls-no-cert", { reconnect: false, timeoutMs: 5_000, auth: { tls: { caFile: paths.ca } } }),
    withCode(ErrorCode.NotAuthenticated, /requires a client certificate and none was given/),
  );
});

test("a client with a certificate of another CA is refused: NotAuthenticated", async () => {
  const tls = asRole(otherCa, "admin");
  await assert.rejects(
    connectNats(nats.url, "tls-other-ca", { reconnect: false, timeoutMs: 5_000, auth: { tls } }),
    withCode(ErrorCode.NotAuthenticated, /refused the client certificate .*other.*admin-cert\.pem/),
  );
});

test("a client that cannot verify the server's certificate gives up: NotAuthenticated", async () => {
  const { certFile, keyFile } = asRole(paths, "admin")!;
  await assert.rejects(
    connectNats(nats.url, "tls-no-ca", { reconnect: false, timeoutMs: 5_000, auth: { tls: { certFile, keyFile } } }),
    withCode(ErrorCode.NotAuthenticated, /server's certificate was refused: no CA file/),
  );
  await assert.rejects(
    connectNats(nats.url, "tls-wrong-ca", { reconnect: false, timeoutMs: 5_000, auth: { tls: { certFile, keyFile, caFile: otherCa.ca } } }),
    withCode(ErrorCode.NotAuthenticated, /server's certificate was refused: .*not signed by the CA/),
  );
});

/**
 * nats.js always upgrades to TLS when the server requires it, so the plain client is a socket that
 * reads the server's INFO, sends CONNECT and PING in clear, and collects what comes back until the
 * server closes the connection (or `timeoutMs` passes: then it fails).
 */
function plainClient(port: number, timeoutMs: number): Promise<{ info: Record<string, unknown>; after: string }> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, "127.0.0.1");
    const timer = setTimeout(() => socket.destroy(new Error(`the server kept the plain connection open for ${timeoutMs} ms`)), timeoutMs);
    let text = "";
    let sent = false;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
      if (!sent && text.includes("\r\n")) {
        sent = true;
        socket.write('CONNECT {"verbose":false,"pedantic":false,"name":"plain"}\r\nPING\r\n');
      }
    });
    socket.on("error", reject);
    socket.on("close", () => {
      clearTimeout(timer);
      const end = text.indexOf("\r\n");
      if (!text.startsWith("INFO ") || end < 0) return reject(new Error(`no INFO from the server: ${JSON.stringify(text)}`));
      resolve({ info: JSON.parse(text.slice(5, end)) as Record<string, unknown>, after: text.slice(end + 2) });
    });
  });
}

test("a plain (non-TLS) client is refused", async () => {
  const { info, after } = await plainClient(nats.port, 10_000);
  assert.equal(info.tls_required, true);
  assert.equal(info.tls_verify, true);
  assert.doesNotMatch(after, /PONG/, "the server never answers a client that skipped TLS");
});
