/**
 * Certificates written by src/security/x509.ts, read back by node's own X.509 parser: they chain to
 * their CA, carry the extensions mutual TLS needs, and the DER encoder under them is exact (long
 * lengths, INTEGER padding, OIDs, named bits, the UTCTime/GeneralizedTime switch in 2050).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { ErrorCode } from "../../src/core/errors.js";
import * as der from "../../src/security/der.js";
import { createCertificate, KEY_USAGE, OID, readExtensions, type CertificateAndKey } from "../../src/security/x509.js";
import { withCode } from "../helpers/error-code.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const issuerOf = (c: CertificateAndKey) => ({ cert: c.certPem, key: createPrivateKey(c.keyPem) });
const x509 = (c: CertificateAndKey) => new X509Certificate(c.certPem);

const ca = createCertificate({ subjectCN: "Test CA", isCA: true, days: 30 });
const server = createCertificate({
  subjectCN: "server",
  issuer: issuerOf(ca),
  isCA: false,
  serverNames: ["localhost", "nats.example.com", "127.0.0.1", "::1", "fe80::1:2", "::ffff:10.1.2.3"],
  serverAuth: true,
  days: 10,
});
const client = createCertificate({ subjectCN: "worker", issuer: issuerOf(ca), isCA: false, clientAuth: true, days: 10 });

function extensions(c: CertificateAndKey): Map<string, { critical: boolean; value: Buffer }> {
  return new Map(readExtensions(x509(c).raw).map(({ oid, critical, value }) => [oid, { critical, value }]));
}

test("every certificate parses, and the leaves are signed and issued by the CA", () => {
  const caCert = x509(ca);
  assert.equal(caCert.subject, "CN=Test CA");
  assert.equal(caCert.issuer, "CN=Test CA");
  assert.equal(caCert.ca, true);
  assert.equal(caCert.verify(caCert.publicKey), true, "the CA signs itself");
  for (const leaf of [x509(server), x509(client)]) {
    assert.equal(leaf.ca, false);
    assert.equal(leaf.issuer, "CN=Test CA");
    assert.equal(leaf.verify(caCert.publicKey), true);
    assert.equal(leaf.checkIssued(caCert), true);
    assert.equal(leaf.verify(x509(createCertificate({ subjectCN: "Other CA", isCA: true, days: 1 })).publicKey), false);
  }
  assert.equal(x509(client).subject, "CN=worker");
});

test("validity starts a little before now and lasts the days asked", () => {
  const before = Date.now();
  const cert = x509(createCertificate({ subjectCN: "v", isCA: false, days: 10 }));
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  assert.ok(from <= before && from > before - 10 * 60_000, cert.validFrom);
  assert.ok(Math.abs(to - (before + 10 * 86_400_000)) < 5_000, cert.validTo);
});

test("the server certificate names its DNS names and IP addresses in subjectAltName", () => {
  const cert = x509(server);
  assert.equal(
    cert.subjectAltName,
    "DNS:localhost, DNS:nats.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FE80:0:0:0:0:0:1:2, IP Address:0:0:0:0:0:FFFF:A01:203",
  );
  assert.equal(cert.checkHost("localhost"), "localhost");
  assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
  assert.equal(cert.checkIP("::1"), "::1");
  assert.equal(cert.checkIP("127.0.0.2"), undefined);
  assert.equal(x509(client).subjectAltName, undefined, "a client certificate names no host");
});

test("basicConstraints and keyUsage are critical; extKeyUsage says server or client", () => {
  const caExt = extensions(ca);
  const serverExt = extensions(server);
  const clientExt = extensions(client);
  assert.deepEqual(caExt.get(OID.basicConstraints), { critical: true, value: der.sequence(der.boolean(true)) });
  assert.deepEqual(serverExt.get(OID.basicConstraints), { critical: true, value: der.sequence() });
  assert.deepEqual(caExt.get(OID.keyUsage), { critical: true, value: der.namedBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]) });
  assert.deepEqual(clientExt.get(OID.keyUsage), { critical: true, value: der.namedBits([KEY_USAGE.digitalSignature]) });
  assert.equal(caExt.has(OID.extKeyUsage), false);
  assert.deepEqual(x509(server).keyUsage, [OID.serverAuth]);
  assert.deepEqual(x509(client).keyUsage, [OID.clientAuth]);
  assert.equal(serverExt.get(OID.subjectAltName)?.critical, false);
  assert.equal(clientExt.has(OID.subjectAltName), false);
});

test("each certificate names its key, and a leaf's authority key is its CA's key", () => {
  const keyIdOf = (c: CertificateAndKey) => hex(extensions(c).get(OID.subjectKeyIdentifier)!.value);
  const authorityOf = (c: CertificateAndKey) => hex(extensions(c).get(OID.authorityKeyIdentifier)!.value);
  // SubjectKeyIdentifier: OCTET STRING of 20 octets (SHA-1); AuthorityKeyIdentifier: SEQUENCE { [0] keyIdentifier }.
  assert.match(keyIdOf(ca), /^0414[0-9a-f]{40}$/);
  assert.equal(authorityOf(ca), `30168014${keyIdOf(ca).slice(4)}`, "the CA is its own authority");
  assert.equal(authorityOf(server), `30168014${keyIdOf(ca).slice(4)}`);
  assert.equal(authorityOf(client), `30168014${keyIdOf(ca).slice(4)}`);
  assert.notEqual(keyIdOf(server), keyIdOf(ca));
});

test("keys are PKCS#8 EC P-256 keys of their certificates", () => {
  for (const c of [ca, server, client]) {
    assert.match(c.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    const key = createPrivateKey(c.keyPem);
    assert.equal(key.asymmetricKeyType, "ec");
    assert.equal(key.asymmetricKeyDetails?.namedCurve, "prime256v1");
    assert.equal(x509(c).checkPrivateKey(key), true);
  }
});

test("serial numbers are positive 16-octet integers, each its own", () => {
  const serials = [ca, server, client].map((c) => x509(c).serialNumber);
  for (const s of serials) assert.match(s, /^[4-7][0-9A-F]{31}$/);
  assert.equal(new Set(serials).size, serials.length);
});

test("an issuer must be a CA whose key is the given one", () => {
  const leafAsIssuer = { cert: client.certPem, key: createPrivateKey(client.keyPem) };
  assert.throws(() => createCertificate({ subjectCN: "x", issuer: leafAsIssuer, isCA: false, days: 1 }), withCode(ErrorCode.MalformedRequest, /not a CA/));
  const wrongKey = { cert: ca.certPem, key: createPrivateKey(server.keyPem) };
  assert.throws(() => createCertificate({ subjectCN: "x", issuer: wrongKey, isCA: false, days: 1 }), withCode(ErrorCode.MalformedRequest, /does not belong/));
  assert.throws(
    () => createCertificate({ subjectCN: "x", issuer: { cert: "not a certificate", key: createPrivateKey(ca.keyPem) }, isCA: false, days: 1 }),
    withCode(ErrorCode.MalformedRequest, /does not parse/),
  );
});

test("names, common names and validities out of range are refused", () => {
  const bad = (over: Partial<Parameters<typeof createCertificate>[0]>, re: RegExp) =>
    assert.throws(() => createCertificate({ subjectCN: "x", isCA: false, days: 1, ...over }), withCode(ErrorCode.MalformedRequest, re));
  bad({ serverNames: ["bad name"] }, /neither an IP address nor a DNS name/);
  bad({ serverNames: ["-x.example"] }, /neither/);
  bad({ serverNames: ["fe80::1%eth0"] }, /zone/);
  bad({ subjectCN: "" }, /subject CN/);
  bad({ subjectCN: "x".repeat(65) }, /subject CN/);
  bad({ subjectCN: "a\nb" }, /subject CN/);
  bad({ days: 0 }, /days/);
  bad({ days: 1.5 }, /days/);
  bad({ days: 36_501 }, /days/);
});

test("DER lengths above 127 and above 255 take the long form", () => {
  const head = (n: number) => hex(der.octetString(Buffer.alloc(n)).subarray(0, 5));
  assert.equal(head(127).slice(0, 4), "047f");
  assert.equal(head(128).slice(0, 6), "048180");
  assert.equal(head(255).slice(0, 6), "0481ff");
  assert.equal(head(256).slice(0, 8), "04820100");
  assert.equal(head(65_536), "0483010000");
  for (const n of [0, 127, 128, 255, 256, 65_535, 65_536]) {
    const el = der.octetString(Buffer.alloc(n, 7));
    assert.deepEqual(der.readHeader(el, 0), { tag: 0x04, contentStart: el.length - n, end: el.length }, `length ${n}`);
  }
});

test("a certificate whose subjectAltName runs past 255 octets parses whole", () => {
  const names = Array.from({ length: 40 }, (_, i) => `host-${i}.cluster.example.com`);
  const cert = x509(createCertificate({ subjectCN: "many", isCA: false, serverNames: names, serverAuth: true, days: 1 }));
  const san = readExtensions(cert.raw).find((e) => e.oid === OID.subjectAltName)!;
  assert.ok(san.value.length > 255, `${san.value.length} octets`);
  assert.equal(cert.subjectAltName, names.map((n) => `DNS:${n}`).join(", "));
  assert.equal(cert.checkHost("host-39.cluster.example.com"), "host-39.cluster.example.com");
});

test("INTEGER takes the fewest octets, with a leading 0x00 when the high bit is set", () => {
  assert.equal(hex(der.integer(0)), "020100");
  assert.equal(hex(der.integer(127)), "02017f");
  assert.equal(hex(der.integer(128)), "02020080");
  assert.equal(hex(der.integer(256)), "02020100");
  assert.equal(hex(der.integer(2n ** 64n)), "0209010000000000000000");
  assert.equal(hex(der.integer(Buffer.from([0, 0, 0x80, 1]))), "0203008001");
  assert.equal(hex(der.integer(Buffer.from([0, 0]))), "020100");
  assert.throws(() => der.integer(-1), withCode(ErrorCode.MalformedRequest, /negative/));
});

test("OBJECT IDENTIFIERs encode their arcs in base 128 and decode back", () => {
  assert.equal(hex(der.oid(OID.ecdsaWithSha256)), "06082a8648ce3d040302");
  assert.equal(hex(der.oid(OID.commonName)), "0603550403");
  assert.equal(hex(der.oid("2.999.3")), "0603883703");
  for (const o of [...Object.values(OID), "2.999.3", "1.2.840.113549.1.1.11", "2.25.329800735698586629295641978511506172918"])
    assert.equal(der.decodeOid(der.oid(o)), o);
  for (const o of ["1", "3.1", "1.40", "1.2.03", "1..2"]) assert.throws(() => der.oid(o), withCode(ErrorCode.MalformedRequest, /OID/), o);
});

test("named bits drop their trailing zero bits", () => {
  assert.equal(hex(der.namedBits([KEY_USAGE.digitalSignature])), "03020780");
  assert.equal(hex(der.namedBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])), "03020106");
  assert.equal(hex(der.namedBits([0, 1, 2, 3, 4, 5, 6, 7, 8])), "030307ff80");
  assert.equal(hex(der.namedBits([])), "030100");
});

test("times are UTCTime through 2049 and GeneralizedTime from 2050", () => {
  assert.equal(der.time(new Date("2049-12-31T23:59:59.900Z")).toString("latin1"), "\x17\x0d491231235959Z");
  assert.equal(der.time(new Date("2050-01-01T00:00:00Z")).toString("latin1"), "\x18\x0f20500101000000Z");
  assert.equal(der.time(new Date("1950-01-01T00:00:00Z")).toString("latin1"), "\x17\x0d500101000000Z");
  assert.throws(() => der.utcTime(new Date("2050-01-01T00:00:00Z")), withCode(ErrorCode.MalformedRequest, /UTCTime/));
  const longLived = x509(createCertificate({ subjectCN: "long", isCA: false, days: 36_500 }));
  assert.ok(new Date(longLived.validTo).getUTCFullYear() >= 2100, longLived.validTo);
});

test("strings, booleans, sets and context tags encode exactly", () => {
  assert.equal(hex(der.boolean(true)), "0101ff");
  assert.equal(hex(der.boolean(false)), "010100");
  assert.equal(hex(der.utf8String("é")), "0c02c3a9");
  assert.equal(hex(der.printableString("Eddy 1")), "1306456464792031");
  assert.throws(() => der.printableString("a@b"), withCode(ErrorCode.MalformedRequest, /PrintableString/));
  assert.throws(() => der.ia5String("é"), withCode(ErrorCode.MalformedRequest, /IA5String/));
  assert.equal(hex(der.set(der.integer(2), der.integer(1))), "3106020101020102", "a SET OF is sorted");
  assert.equal(hex(der.explicit(0, der.integer(2))), "a003020102");
  assert.equal(hex(der.implicit(2, der.ia5String("a"))), "820161");
  assert.equal(hex(der.implicit(1, der.sequence())), "a100", "an implicit tag keeps the constructed bit");
  assert.equal(hex(der.bitString(Buffer.from([0xa0]), 5)), "030205a0");
});
