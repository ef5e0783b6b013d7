/**
 * A bundle's identity (Flink's PermanentBlobKey): the SHA-256 of its bytes in lowercase hex, and
 * its size. The same bytes always have the same id, so a bundle is stored once however many jobs
 * name it, and a worker can check what it fetched against the name it asked for.
 */
import { createHash } from "node:crypto";
import { ErrorCode, ValidationError } from "../core/errors.js";
import { MAX_BUNDLE_BYTES } from "./limits.js";

/** What a JobGraph, a task and an application name a bundle by. */
export interface BundleRef {
  /** SHA-256 of the bytes, 64 lowercase hex digits (also the object's name in the store). */
  id: string;
  /** Size in bytes. */
  size: number;
}

/** 64 lowercase hex digits. */
export const BUNDLE_ID_PATTERN = /^[0-9a-f]{64}$/;

/** The id of `bytes`: their SHA-256 in lowercase hex. */
export function bundleIdOf(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The ref of `bytes`. */
export function bundleRefOf(bytes: Uint8Array): BundleRef {
  return { id: bundleIdOf(bytes), size: bytes.byteLength };
}

/** Checks an untrusted ref; throws ValidationError MalformedRequest saying what is wrong. */
export function checkBundleRef(ref: unknown, path = "bundle"): BundleRef {
  const r = ref as Partial<BundleRef> | null;
  if (!r || typeof r !== "object") throw new ValidationError(ErrorCode.MalformedRequest, `${path} must be an object {id, size}`);
  if (typeof r.id !== "string" || !BUNDLE_ID_PATTERN.test(r.id))
    throw new ValidationError(ErrorCode.MalformedRequest, `${path}.id must be the bundle's SHA-256 in lowercase hex (64 digits)`);
  if (typeof r.size !== "number" || !Number.isSafeInteger(r.size) || r.size < 1 || r.size > MAX_BUNDLE_BYTES)
    throw new ValidationError(ErrorCode.MalformedRequest, `${path}.size must be an integer from 1 to ${MAX_BUNDLE_BYTES}`);
  return { id: r.id, size: r.size };
}
