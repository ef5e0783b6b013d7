/** The TLS files of `eddy secure init --tls` and the nats-server block that uses them. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode } from "../../src/core/errors.js";
import { defaultServerNames, natsTlsBlock, writeTlsMaterial } from "../../src/security/tls-material.js";
import { OID } from "../../src/security/x509.js";
import { withCode } from "../helpers/error-code.js";

const ROLES = ["admin", "jobmanager", "worker", "function", "client", "viewer"];

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "eddy-tls-material-"));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("writes a CA, a server certificate and a client certificate per role; keys are 0600", () =>
  withDir((dir) => {
    const paths = writeTlsMaterial(dir, { clients: ROLES });
    const tls = join(dir, "tls");
    assert.deepEqual(
      readdirSync(tls).sort(),
      ["ca.pem", "ca-key.pem", "server-cert.pem", "server-key.pem", ...ROLES.flatMap((r) => [`${r}-cert.pem`, `${r}-key.pem`])].sort(),
    );
    assert.equal(paths.ca, join(tls, "ca.pem"));
    assert.deepEqual(Object.keys(paths.clients), ROLES);
    const mode = (p: string) => statSync(p).mode & 0o777;
    for (const key of [paths.caKey, paths.serverKey, ...ROLES.map((r) => paths.clients[r]!.key)]) assert.equal(mode(key), 0o600, key);
    for (const cert of [paths.ca, paths.serverCert, ...ROLES.map((r) => paths.clients[r]!.cert)]) assert.equal(mode(cert), 0o644, cert);

    const ca = new X509Certificate(readFileSync(paths.ca));
    assert.equal(ca.ca, true);
    const server = new X509Certificate(readFileSync(paths.serverCert));
    assert.equal(server.checkIssued(ca) && server.verify(ca.publicKey), true);
    assert.deepEqual(server.keyUsage, [OID.serverAuth]);
    for (const name of defaultServerNames()) assert.ok(server.checkHost(name) ?? server.checkIP(name), `the server certificate names ${name}`);
    for (const r of ROLES) {
      const c = new X509Certificate(readFileSync(paths.clients[r]!.cert));
      assert.equal(c.subject, `CN=${r}`);
      assert.equal(c.checkIssued(ca) && c.verify(ca.publicKey), true, r);
      assert.deepEqual(c.keyUsage, [OID.clientAuth]);
    }
  }));

test("the server's default names are the loopback names and this host's name", () => {
  const names = defaultServerNames();
  assert.deepEqual(names.slice(0, 3), ["localhost", "127.0.0.1", "::1"]);
  if (hostname() !== "localhost") assert.ok(names.includes(hostname()), names.join(","));
});

test("the nats tls block quotes the paths and requires client certificates", () => {
  const block = natsTlsBlock({ ca: '/etc/e "q"/ca.pem', serverCert: "/etc/e\\d/s.pem", serverKey: "/etc/e/s-key.pem" });
  assert.equal(
    block,
    ["tls {", '  cert_file: "/etc/e\\\\d/s.pem"', '  key_file: "/etc/e/s-key.pem"', '  ca_file: "/etc/e \\"q\\"/ca.pem"', "  verify: true", "}", ""].join("\n"),
  );
  assert.throws(() => natsTlsBlock({ ca: "/a\nb", serverCert: "/c", serverKey: "/k" }), withCode(ErrorCode.MalformedRequest, /control characters/));
});

test("bad client names (no file name, the CA's or server's, repeated), server names and validities are refused before any file is written", () =>
  withDir((dir) => {
    for (const clients of [["../x"], ["ca"], ["server"], [""], ["a b"], ["admin", "admin"]])
      assert.throws(() => writeTlsMaterial(dir, { clients }), withCode(ErrorCode.MalformedRequest), clients.join(","));
    assert.throws(() => writeTlsMaterial(dir, { clients: ["admin"], serverNames: ["not a host"] }), withCode(ErrorCode.MalformedRequest, /not a host/));
    for (const days of [0, 3651, 1.5]) assert.throws(() => writeTlsMaterial(dir, { clients: ["admin"], days }), withCode(ErrorCode.MalformedRequest, /days/));
    assert.deepEqual(readdirSync(dir), [], "nothing is written before the names and validity are checked");
  }));
