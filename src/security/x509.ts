/**
 * X.509 v3 certificates for mutual TLS between Eddy's processes and NATS: a CA, a server
 * certificate and client certificates, each with a fresh EC P-256 key and signed ecdsa-with-SHA256.
 * node:crypto parses certificates but writes none, so the certificate is built here from DER.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from "node:crypto";
import { isIP } from "node:net";
import { ErrorCode, ValidationError } from "../core/errors.js";
import * as der from "./der.js";

/** The object identifiers a certificate here names. */
export const OID = {
  commonName: "2.5.4.3",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

/** Bit numbers of the keyUsage extension (RFC 5280 4.2.1.3). */
export const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** What {@link createCertificate} makes. */
export interface CertificateRequest {
  /** The subject's common name (1 to 64 characters). */
  subjectCN: string;
  /** The CA that signs the certificate (its certificate as PEM and its private key); absent: self-signed. */
  issuer?: { cert: string; key: KeyObject };
  /** A CA (basicConstraints cA, keyCertSign and cRLSign) or a leaf (digitalSignature). */
  isCA: boolean;
  /** DNS names and IP addresses the certificate is valid for (subjectAltName). */
  serverNames?: readonly string[];
  /** extKeyUsage clientAuth: a client certificate for mutual TLS. */
  clientAuth?: boolean;
  /** extKeyUsage serverAuth: a server certificate. */
  serverAuth?: boolean;
  /** Validity in days from now (1 to 36 500). */
  days: number;
}

/** A certificate and its private key (PKCS#8), both PEM. */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

/** An extension as a certificate carries it. */
export interface CertificateExtension {
  oid: string;
  critical: boolean;
  /** The DER inside extnValue. */
  value: Buffer;
}

/** notBefore lies this far in the past, so that a peer whose clock is a little behind accepts a new certificate. */
const CLOCK_SKEW_MS = 5 * 60_000;
const DAY_MS = 86_400_000;
const MAX_DAYS = 36_500;

function invalid(message: string): ValidationError {
  return new ValidationError(ErrorCode.MalformedRequest, `certificate: ${message}`);
}

/** Creates a key pair and a certificate for it, signed by `issuer` (or by itself). */
export function createCertificate(req: CertificateRequest): CertificateAndKey {
  if (typeof req.subjectCN !== "string" || !/^\P{Cc}{1,64}$/u.test(req.subjectCN))
    throw invalid(`the subject CN must be 1 to 64 characters without control characters, not ${JSON.stringify(req.subjectCN)}`);
  if (!Number.isInteger(req.days) || req.days < 1 || req.days > MAX_DAYS) throw invalid(`days must be an integer from 1 to ${MAX_DAYS}, not ${req.days}`);
  const altNames = (req.serverNames ?? []).map(generalName);
  const issuer = req.issuer ? issuerOf(req.issuer) : undefined;

  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const spki = publicKey.export({ type: "spki", format: "der" });
  const keyId = keyIdentifier(spki);
  const subject = name(req.subjectCN);
  const now = Date.now();
  const extKeyUsage = [...(req.serverAuth ? [OID.serverAuth] : []), ...(req.clientAuth ? [OID.clientAuth] : [])];
  const extensions = [
    extension(OID.basicConstraints, true, req.isCA ? der.sequence(der.boolean(true)) : der.sequence()),
    extension(OID.keyUsage, true, der.namedBits(req.isCA ? [KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign] : [KEY_USAGE.digitalSignature])),
    ...(extKeyUsage.length ? [extension(OID.extKeyUsage, false, der.sequence(...extKeyUsage.map(der.oid)))] : []),
    extension(OID.subjectKeyIdentifier, false, der.octetString(keyId)),
    extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicit(0, der.octetString(issuer?.keyId ?? keyId)))),
    ...(altNames.length ? [extension(OID.subjectAltName, false, der.sequence(...altNames))] : []),
  ];
  const signatureAlgorithm = der.sequence(der.oid(OID.ecdsaWithSha256));
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)), // v3
    der.integer(serialNumber()),
    signatureAlgorithm,
    issuer?.name ?? subject,
    der.sequence(der.time(new Date(now - CLOCK_SKEW_MS)), der.time(new Date(now + req.days * DAY_MS))),
    subject,
    spki,
    der.explicit(3, der.sequence(...extensions)),
  );
  const signature = sign("sha256", tbs, { key: issuer?.key ?? privateKey, dsaEncoding: "der" });
  return {
    certPem: pem("CERTIFICATE", der.sequence(tbs, signatureAlgorithm, der.bitString(signature))),
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** The extensions of a certificate (DER), in the order it carries them. */
export function readExtensions(raw: Buffer): CertificateExtension[] {
  const tbs = der.children(raw, der.readHeader(raw, 0))[0];
  if (!tbs) throw invalid("no TBSCertificate");
  const outer = der.children(raw, tbs).find((f) => f.tag === 0xa3);
  if (!outer) return [];
  const list = der.children(raw, outer)[0];
  if (!list) return [];
  return der.children(raw, list).map((ext) => {
    const [id, second, third] = der.children(raw, ext);
    const critical = second?.tag === 0x01 && raw[second.contentStart] !== 0;
    const value = second?.tag === 0x01 ? third : second;
    if (!id || !value) throw invalid("malformed extension");
    return { oid: der.decodeOid(id.der), critical, value: raw.subarray(value.contentStart, value.end) };
  });
}

/** The issuer's subject Name (as its certificate encodes it), key identifier and signing key, once checked. */
function issuerOf(issuer: { cert: string; key: KeyObject }): { name: der.Der; keyId: Buffer; key: KeyObject } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(issuer.cert);
  } catch (err) {
    throw invalid(`the issuer's certificate does not parse: ${(err as Error).message}`);
  }
  if (!cert.ca) throw invalid(`the issuer ${cert.subject} is not a CA`);
  if (issuer.key.type !== "private" || issuer.key.asymmetricKeyType !== "ec") throw invalid("the issuer's key must be an EC private key");
  if (!cert.checkPrivateKey(issuer.key)) throw invalid(`the issuer's key does not belong to its certificate ${cert.subject}`);
  const raw = cert.raw;
  const fields = der.children(raw, der.children(raw, der.readHeader(raw, 0))[0]!);
  // TBSCertificate: [0] version, serial, signature, issuer, validity, subject, ...
  const subject = fields[fields[0]?.tag === 0xa0 ? 5 : 4];
  if (!subject) throw invalid("the issuer's certificate has no subject");
  const ski = readExtensions(raw).find((e) => e.oid === OID.subjectKeyIdentifier);
  const keyId = ski ? ski.value.subarray(der.readHeader(ski.value, 0).contentStart) : keyIdentifier(cert.publicKey.export({ type: "spki", format: "der" }));
  return { name: subject.der, keyId, key: issuer.key };
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(spki: Buffer): Buffer {
  const bits = der.children(spki, der.readHeader(spki, 0))[1];
  if (!bits) throw invalid("malformed public key");
  return createHash("sha1")
    .update(spki.subarray(bits.contentStart + 1, bits.end))
    .digest();
}

/** A Name of one common name. */
function name(cn: string): der.Der {
  return der.sequence(der.set(der.sequence(der.oid(OID.commonName), der.utf8String(cn))));
}

function extension(id: string, critical: boolean, value: der.Der): der.Der {
  return der.sequence(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** 16 random octets read as a positive integer: the high bit cleared, the next set so that no octet is dropped. */
function serialNumber(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b;
}

/** A subjectAltName entry: iPAddress [7] for an IPv4 or IPv6 address, else dNSName [2]. */
function generalName(n: string): der.Der {
  const version = isIP(n);
  if (version === 4) return der.implicit(7, der.octetString(Buffer.from(n.split(".").map(Number))));
  if (version === 6) return der.implicit(7, der.octetString(ipv6Octets(n)));
  if (!isDnsName(n)) throw invalid(`${JSON.stringify(n)} is neither an IP address nor a DNS name`);
  return der.implicit(2, der.ia5String(n));
}

/** A host name (labels of letters, digits and inner hyphens), optionally starting with a `*.` wildcard. */
export function isDnsName(n: string): boolean {
  return n.length <= 253 && /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(n);
}

/** The 16 octets of an IPv6 address that `isIP` accepted (`::` runs, an IPv4 tail). */
function ipv6Octets(text: string): Buffer {
  if (text.includes("%")) throw invalid(`${text}: an address with a zone cannot be in a certificate`);
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  const hex = v4
    ? text.slice(0, v4.index) +
      [
        [1, 2],
        [3, 4],
      ]
        .map(([a, b]) => ((Number(v4[a!]) << 8) | Number(v4[b!])).toString(16))
        .join(":")
    : text;
  const [head, tail] = hex.split("::");
  const left = head ? head.split(":") : [];
  const right = tail === undefined ? [] : tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return out;
}

/** PEM armour: base64 in lines of 64 characters. */
function pem(label: string, body: Buffer): string {
  const lines = body.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
