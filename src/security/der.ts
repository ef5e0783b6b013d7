/**
 * The little ASN.1 DER that X.509 certificates need (ITU-T X.690): node:crypto parses certificates
 * but writes none, and a certificate is only a few nested structures of a dozen types. Every
 * function returns one whole encoded element (tag, length, contents); constructed ones take
 * elements made here. Plus a reader of one element's header, enough to walk a certificate.
 */
import { ErrorCode, ValidationError } from "../core/errors.js";

/** One encoded DER element. */
export type Der = Buffer;

/** Tags of the universal types used here. */
const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  sequence: 0x30,
  set: 0x31,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
} as const;

function invalid(message: string): ValidationError {
  return new ValidationError(ErrorCode.MalformedRequest, `DER: ${message}`);
}

/** The length octets: short form below 128, else 0x80|n followed by n big-endian octets. */
export function encodeLength(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw invalid(`bad length ${n}`);
  if (n < 0x80) return Buffer.from([n]);
  const octets: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) octets.unshift(v % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

/** An element of `tag` (one octet: universal or context-specific tag numbers below 31) around `contents`. */
export function tlv(tag: number, contents: Uint8Array): Der {
  return Buffer.concat([Buffer.from([tag]), encodeLength(contents.length), contents]);
}

export function sequence(...items: Der[]): Der {
  return tlv(TAG.sequence, Buffer.concat(items));
}

/** A SET OF: DER orders the elements by their encodings. */
export function set(...items: Der[]): Der {
  return tlv(TAG.set, Buffer.concat([...items].sort(Buffer.compare)));
}

export function boolean(v: boolean): Der {
  return tlv(TAG.boolean, Buffer.from([v ? 0xff : 0x00]));
}

/**
 * A non-negative INTEGER, from a number, a bigint or big-endian unsigned octets: the fewest
 * octets, with a leading 0x00 when the first one's high bit is set (else it would read negative).
 */
export function integer(v: number | bigint | Uint8Array): Der {
  let octets: Buffer;
  if (v instanceof Uint8Array) octets = Buffer.from(v);
  else {
    const n = BigInt(v);
    if (n < 0n) throw invalid(`negative INTEGER ${n}`);
    const hex = n.toString(16);
    octets = Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex");
  }
  let start = 0;
  while (start < octets.length - 1 && octets[start] === 0) start++;
  octets = octets.subarray(start);
  if (octets.length === 0) octets = Buffer.from([0]);
  return tlv(TAG.integer, octets[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), octets]) : octets);
}

/** An OBJECT IDENTIFIER from its dotted form: 40·first + second, then base-128 arcs. */
export function oid(dotted: string): Der {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(dotted)) throw invalid(`bad OID ${JSON.stringify(dotted)}`);
  const arcs = dotted.split(".").map((a) => BigInt(a));
  if (arcs[0]! < 2n && arcs[1]! >= 40n) throw invalid(`bad OID ${dotted}: the second arc must be below 40`);
  const out: number[] = [];
  for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    const base128 = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) base128.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...base128);
  }
  return tlv(TAG.oid, Buffer.from(out));
}

export function utf8String(s: string): Der {
  return tlv(TAG.utf8String, Buffer.from(s, "utf8"));
}

/** A PrintableString: letters, digits, space and '()+,-./:=? only. */
export function printableString(s: string): Der {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s)) throw invalid(`${JSON.stringify(s)} is not a PrintableString`);
  return tlv(TAG.printableString, Buffer.from(s, "latin1"));
}

/** An IA5String (ASCII): the type of DNS names in subjectAltName. */
export function ia5String(s: string): Der {
  if (!/^\p{ASCII}*$/u.test(s)) throw invalid(`${JSON.stringify(s)} is not ASCII (IA5String)`);
  return tlv(TAG.ia5String, Buffer.from(s, "latin1"));
}

/** A BIT STRING of whole octets, or of `bits.length*8 - unusedBits` bits. */
export function bitString(bits: Uint8Array, unusedBits = 0): Der {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (bits.length === 0 && unusedBits !== 0))
    throw invalid(`bad unused bits ${unusedBits}`);
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([unusedBits]), bits]));
}

/**
 * A BIT STRING of named bits (keyUsage) from the numbers of the bits set, bit 0 first: DER drops
 * the trailing zero bits, so its length follows the highest bit set.
 */
export function namedBits(bits: readonly number[]): Der {
  if (bits.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) throw invalid(`bad bit numbers ${bits.join(",")}`);
  if (bits.length === 0) return bitString(Buffer.alloc(0));
  const highest = Math.max(...bits);
  const octets = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const b of bits) octets[b >> 3]! |= 0x80 >> (b & 7);
  return bitString(octets, 7 - (highest & 7));
}

export function octetString(octets: Uint8Array): Der {
  return tlv(TAG.octetString, octets);
}

/** UTCTime `YYMMDDHHMMSSZ`: years 1950 to 2049 only. */
export function utcTime(d: Date): Der {
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 2049) throw invalid(`UTCTime cannot hold the year ${y}`);
  return tlv(TAG.utcTime, Buffer.from(`${stamp(d).slice(2)}Z`, "latin1"));
}

/** GeneralizedTime `YYYYMMDDHHMMSSZ` (whole seconds, UTC). */
export function generalizedTime(d: Date): Der {
  return tlv(TAG.generalizedTime, Buffer.from(`${stamp(d)}Z`, "latin1"));
}

/** A certificate's time (RFC 5280 4.1.2.5): UTCTime through 2049, GeneralizedTime from 2050. */
export function time(d: Date): Der {
  const y = d.getUTCFullYear();
  return y >= 1950 && y <= 2049 ? utcTime(d) : generalizedTime(d);
}

/** `YYYYMMDDHHMMSS` in UTC (fractions of a second dropped). */
function stamp(d: Date): string {
  if (Number.isNaN(d.getTime())) throw invalid("invalid date");
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw invalid(`the year ${y} has no four-digit form`);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${String(y).padStart(4, "0")}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
}

function contextTag(n: number, constructed: boolean): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw invalid(`context tag [${n}] out of range`);
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** `[n] EXPLICIT`: a constructed context-specific element around the whole of `inner`. */
export function explicit(n: number, inner: Der): Der {
  return tlv(contextTag(n, true), inner);
}

/** `[n] IMPLICIT`: `element` with its tag replaced by [n], constructed if it was. */
export function implicit(n: number, element: Der): Der {
  const head = readHeader(element, 0);
  if (head.end !== element.length) throw invalid("implicit takes exactly one element");
  return tlv(contextTag(n, (element[0]! & 0x20) !== 0), element.subarray(head.contentStart, head.end));
}

/** Where one element sits in a buffer: its tag octet, its contents, and the offset after it. */
export interface DerHeader {
  tag: number;
  contentStart: number;
  end: number;
}

/** The header of the element at `offset` (single-octet tags, definite lengths: DER has no others here). */
export function readHeader(buf: Uint8Array, offset: number): DerHeader {
  if (offset + 2 > buf.length) throw invalid(`truncated element at ${offset}`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw invalid(`multi-octet tag at ${offset}`);
  let len = buf[offset + 1]!;
  let contentStart = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || contentStart + n > buf.length) throw invalid(`bad length at ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[contentStart + i]!;
    contentStart += n;
  }
  const end = contentStart + len;
  if (end > buf.length) throw invalid(`element at ${offset} runs past the end`);
  return { tag, contentStart, end };
}

/** The elements inside the constructed element `outer` (its contents, read one after another). */
export function children(buf: Buffer, outer: DerHeader): Array<DerHeader & { der: Buffer }> {
  const out: Array<DerHeader & { der: Buffer }> = [];
  for (let at = outer.contentStart; at < outer.end; ) {
    const h = readHeader(buf, at);
    if (h.end > outer.end) throw invalid(`element at ${at} runs past its parent`);
    out.push({ ...h, der: buf.subarray(at, h.end) });
    at = h.end;
  }
  return out;
}

/** The dotted form of an OBJECT IDENTIFIER element (the inverse of {@link oid}). */
export function decodeOid(element: Uint8Array): string {
  const h = readHeader(element, 0);
  if (h.tag !== TAG.oid || h.end !== element.length || h.end === h.contentStart) throw invalid("not one OBJECT IDENTIFIER");
  const arcs: bigint[] = [];
  let v = 0n;
  for (let i = h.contentStart; i < h.end; i++) {
    v = (v << 7n) | BigInt(element[i]! & 0x7f);
    if (element[i]! & 0x80) continue;
    arcs.push(v);
    v = 0n;
  }
  if (element[h.end - 1]! & 0x80) throw invalid("OBJECT IDENTIFIER ends inside an arc");
  const first = arcs[0]!;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join(".");
}
