import { C1, Packr } from "msgpackr";
import { ErrorCode, ValidationError } from "../core/errors.js";

/** The two body encodings of the NATS API. */
export type ContentType = "msgpack" | "json";

export const JSON_CONTENT_TYPE = "application/json";
export const MSGPACK_CONTENT_TYPE = "application/msgpack";

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: "number" });
const textDecoder = new TextDecoder("utf-8", { fatal: true });
const textEncoder = new TextEncoder();

/** Reads the encoding named by a Content-Type header (absent: msgpack). */
export function contentTypeOf(header: string | undefined | null): ContentType {
  return header?.toLowerCase().startsWith(JSON_CONTENT_TYPE) ? "json" : "msgpack";
}

/** Encodes a value as MessagePack or JSON. */
export function encode(value: unknown, type: ContentType = "msgpack"): Uint8Array {
  if (type === "json") return textEncoder.encode(JSON.stringify(value ?? null));
  return packr.pack(value);
}

/**
 * Decodes an untrusted body. An empty body is `{}` (a bare request), anything that does not
 * parse is a {@link ValidationError} with code MalformedRequest.
 */
export function decode(bytes: Uint8Array, type: ContentType = "msgpack"): unknown {
  if (bytes.length === 0) return {};
  try {
    if (type === "json") return JSON.parse(textDecoder.decode(bytes));
    const v = packr.unpack(bytes);
    if (containsC1(v, 0)) throw new Error("the never-used byte 0xc1 appears in the data");
    return v;
  } catch (err) {
    throw new ValidationError(ErrorCode.MalformedRequest, `request body is not valid ${type === "json" ? "JSON" : "MessagePack"}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** msgpackr decodes the reserved byte 0xc1 as a marker object instead of failing: refuse it. */
function containsC1(v: unknown, depth: number): boolean {
  if (v === C1) return true;
  if (typeof v !== "object" || v === null || depth > 64) return false;
  if (Array.isArray(v)) {
    for (const x of v) if (containsC1(x, depth + 1)) return true;
    return false;
  }
  if (ArrayBuffer.isView(v)) return false;
  for (const k in v) if (containsC1((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

/** Fast msgpack helpers for the data plane (no validation, trusted peers). */
export const packData = (v: unknown): Uint8Array => packr.pack(v);
export const unpackData = (b: Uint8Array): unknown => packr.unpack(b);
