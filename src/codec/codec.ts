import { Packr } from "msgpackr";
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
  return header && header.toLowerCase().startsWith(JSON_CONTENT_TYPE) ? "json" : "msgpack";
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
    return packr.unpack(bytes);
  } catch (err) {
    throw new ValidationError(
      ErrorCode.MalformedRequest,
      `request body is not valid ${type === "json" ? "JSON" : "MessagePack"}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Fast msgpack helpers for the data plane (no validation, trusted peers). */
export const packData = (v: unknown): Uint8Array => packr.pack(v);
export const unpackData = (b: Uint8Array): unknown => packr.unpack(b);
