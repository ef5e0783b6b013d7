/**
 * The files of mutual TLS between NATS and Eddy's roles: a CA, the server's certificate and one
 * client certificate per role, under `DIR/tls/`, and the nats-server `tls { }` block that uses them
 * (`verify: true`: a client without a certificate signed by the CA is refused).
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { createPrivateKey } from "node:crypto";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { ErrorCode, ValidationError } from "../core/errors.js";
import { createCertificate, isDnsName } from "./x509.js";

/** The longest validity asked of the certificates (ten years). */
const MAX_DAYS = 3650;

/** Where {@link writeTlsMaterial} put each file (absolute paths). */
export interface TlsPaths {
  dir: string;
  ca: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  /** Each client's certificate and key, by client name. */
  clients: Record<string, { cert: string; key: string }>;
}

/** Options of {@link writeTlsMaterial}. */
export interface TlsMaterialOptions {
  /** Names the server certificate is valid for (default {@link defaultServerNames}). */
  serverNames?: readonly string[];
  /** One client certificate each (names of letters, digits, '_' and '-'; not `ca` or `server`). */
  clients: readonly string[];
  /** Validity of the server and client certificates in days (default 825, at most 3650); the CA's is one day longer. */
  days?: number;
}

/** The server certificate's default names: the loopback names and this host's name. */
export function defaultServerNames(): string[] {
  const host = hostname();
  return ["localhost", "127.0.0.1", "::1", ...(isDnsName(host) && host !== "localhost" ? [host] : [])];
}

/**
 * Writes `DIR/tls/ca.pem`, `ca-key.pem`, `server-cert.pem`, `server-key.pem` and
 * `<client>-cert.pem`/`<client>-key.pem` per client, replacing files already there. Keys are
 * readable by their owner only (0600); each file is written whole, then renamed into place.
 */
export function writeTlsMaterial(dir: string, opts: TlsMaterialOptions): TlsPaths {
  const days = opts.days ?? 825;
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS)
    throw new ValidationError(ErrorCode.MalformedRequest, `TLS certificates last 1 to ${MAX_DAYS} days, not ${days}`);
  const clients = [...opts.clients];
  for (const c of clients)
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(c) || c === "ca" || c === "server")
      throw new ValidationError(ErrorCode.MalformedRequest, `bad TLS client name ${JSON.stringify(c)}: letters, digits, '_' and '-', not ca or server`);
  if (new Set(clients).size !== clients.length) throw new ValidationError(ErrorCode.MalformedRequest, `TLS client names repeat: ${clients.join(", ")}`);

  const tlsDir = resolve(dir, "tls");
  const file = (n: string) => join(tlsDir, n);
  const ca = createCertificate({ subjectCN: "Eddy CA", isCA: true, days: days + 1 });
  const issuer = { cert: ca.certPem, key: createPrivateKey(ca.keyPem) };
  const server = createCertificate({
    subjectCN: "Eddy NATS server",
    issuer,
    isCA: false,
    serverNames: opts.serverNames ?? defaultServerNames(),
    serverAuth: true,
    days,
  });
  const paths: TlsPaths = {
    dir: tlsDir,
    ca: file("ca.pem"),
    caKey: file("ca-key.pem"),
    serverCert: file("server-cert.pem"),
    serverKey: file("server-key.pem"),
    clients: {},
  };
  mkdirSync(tlsDir, { recursive: true });
  writePem(paths.ca, ca.certPem, 0o644);
  writePem(paths.caKey, ca.keyPem, 0o600);
  writePem(paths.serverCert, server.certPem, 0o644);
  writePem(paths.serverKey, server.keyPem, 0o600);
  for (const c of clients) {
    const leaf = createCertificate({ subjectCN: c, issuer, isCA: false, clientAuth: true, days });
    paths.clients[c] = { cert: file(`${c}-cert.pem`), key: file(`${c}-key.pem`) };
    writePem(paths.clients[c].cert, leaf.certPem, 0o644);
    writePem(paths.clients[c].key, leaf.keyPem, 0o600);
  }
  return paths;
}

/** The nats-server (2.9+) `tls` block of the server certificate, requiring client certificates signed by the CA. */
export function natsTlsBlock(paths: Pick<TlsPaths, "ca" | "serverCert" | "serverKey">): string {
  return [
    "tls {",
    `  cert_file: ${confString(paths.serverCert)}`,
    `  key_file: ${confString(paths.serverKey)}`,
    `  ca_file: ${confString(paths.ca)}`,
    "  verify: true",
    "}",
    "",
  ].join("\n");
}

/** A double-quoted nats-server config string, `\\` and `"` escaped; a path holding control characters is refused. */
function confString(s: string): string {
  if (/\p{Cc}/u.test(s))
    throw new ValidationError(ErrorCode.MalformedRequest, `a path with control characters cannot go in a nats-server config: ${JSON.stringify(s)}`);
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Writes `text` to `path` whole (a temporary file renamed into place) with `mode`, whatever the umask. */
function writePem(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}
