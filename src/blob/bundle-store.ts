/**
 * The bundle store (Flink's BlobServer for permanent blobs): job bundles in the JetStream Object
 * Store bucket `<prefix>_bundles`, content-addressed: each object is named by the SHA-256 (hex) of
 * its bytes, so an upload of bytes already stored is skipped, and whoever reads a bundle can check
 * it against its name.
 */
import { jetstream, StorageType, type JetStreamClient } from "@nats-io/jetstream";
import { Base64UrlPaddedCodec, setSha256Backend, type ObjectInfo, type ObjectStore } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { EddyError, ErrorCode, NotFoundError, ValidationError } from "../core/errors.js";
import { withTimeout } from "../core/time.js";
import { kvReplicas } from "../ha/kv.js";
import { isPermissionDenied } from "../jetstream/index.js";
import { OBJECT_META_TIMEOUT_MS as META_TIMEOUT_MS, ObjectCorruptError, openObjectStore, readObject } from "../objectstore/index.js";
import type { Subjects } from "../rpc/subjects.js";
import { bundleRefOf, type BundleRef } from "./bundle-ref.js";
import { MAX_BUNDLE_BYTES } from "./limits.js";

/** Object Store chunk size for bundles (clamped to the server's max_payload). */
const CHUNK_BYTES = 1 << 20;
/** Bound of one upload or download: generous, a bundle may be large, ms. */
const TRANSFER_TIMEOUT_MS = 120_000;

/** What {@link BundleStore.put} did. */
export interface PutResult {
  ref: BundleRef;
  /** False when the bundle was already stored (nothing was sent). */
  uploaded: boolean;
}

/** The Object Store's digest of bytes whose SHA-256 is `hexId`: `SHA-256=<base64url, padded>`. */
export function objectDigestOf(hexId: string): string {
  return `SHA-256=${Base64UrlPaddedCodec.encode(Buffer.from(hexId, "hex"))}`;
}

function failed(what: string, err: unknown): EddyError {
  if (err instanceof EddyError) return err;
  // A role that may not upload (a viewer) is refused by the server, not failed by the store.
  const code = isPermissionDenied(err) ? ErrorCode.PermissionDenied : ErrorCode.BundleStorageFailed;
  return new EddyError(code, `${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** Job bundles in JetStream Object Store, named by their SHA-256. */
export class BundleStore {
  /** Bundles downloaded by {@link read} (a cache's fetches show up here). */
  reads = 0;
  /** Bundles actually uploaded by {@link put}. */
  uploads = 0;
  private readonly js: JetStreamClient;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly os: ObjectStore,
    /** The bucket's name, `<prefix>_bundles`. */
    readonly bucket: string,
  ) {
    this.js = jetstream(nc);
  }

  /** Opens (creating if absent) `<prefix>_bundles`: file storage, replicas from EDDY_KV_REPLICAS. */
  static async open(nc: NatsConnection, subjects: Subjects): Promise<BundleStore> {
    setSha256Backend("native");
    const bucket = subjects.bucket("bundles");
    try {
      const os = await withTimeout(
        openObjectStore(
          nc,
          bucket,
          { replicas: kvReplicas(), storage: StorageType.File, description: "Eddy job bundles (user code), by SHA-256" },
          META_TIMEOUT_MS,
        ),
        META_TIMEOUT_MS,
        `opening the Object Store bucket ${bucket}`,
      );
      return new BundleStore(nc, os, bucket);
    } catch (err) {
      throw failed(`cannot open the Object Store bucket ${bucket}`, err);
    }
  }

  private get chunkBytes(): number {
    return Math.min(CHUNK_BYTES, this.nc.info?.max_payload ?? CHUNK_BYTES);
  }

  /** Stores `bytes` under their SHA-256, unless a sound copy is already there. */
  async put(bytes: Uint8Array): Promise<PutResult> {
    if (bytes.byteLength === 0) throw new ValidationError(ErrorCode.BundleCorrupt, "a bundle cannot be empty");
    if (bytes.byteLength > MAX_BUNDLE_BYTES)
      throw new ValidationError(
        ErrorCode.BundleTooLarge,
        `the bundle has ${bytes.byteLength} bytes, more than the ${MAX_BUNDLE_BYTES} allowed; keep data out of the job's code`,
      );
    const ref = bundleRefOf(bytes);
    const present = await this.info(ref.id);
    if (present && soundInfo(present, ref)) return { ref, uploaded: false };
    try {
      await withTimeout(
        this.os.putBlob({ name: ref.id, options: { max_chunk_size: this.chunkBytes } }, bytes),
        TRANSFER_TIMEOUT_MS,
        `uploading bundle ${ref.id}`,
      );
    } catch (err) {
      throw failed(`cannot upload bundle ${ref.id} (${ref.size} bytes)`, err);
    }
    this.uploads++;
    return { ref, uploaded: true };
  }

  /**
   * Checks that the bundle `ref` is stored, with its size and the digest its id implies, without
   * downloading it. NotFoundError `BundleNotFound`, EddyError `BundleCorrupt`.
   */
  async check(ref: BundleRef): Promise<void> {
    const info = await this.info(ref.id);
    if (!info) throw notFound(ref, this.bucket);
    if (!soundInfo(info, ref)) {
      throw new EddyError(
        ErrorCode.BundleCorrupt,
        `bundle ${ref.id} in ${this.bucket} is not the one named: ${info.size !== ref.size ? `${info.size} bytes stored, ${ref.size} named` : `its digest ${info.digest} does not match the id`}; upload it again (eddy run does)`,
        { details: { bundle: ref.id } },
      );
    }
  }

  /**
   * Downloads the bundle `ref`. Checks the size; the caller checks the content against the id
   * (a {@link BundleCache} does). NotFoundError `BundleNotFound`, EddyError `BundleCorrupt` or
   * `BundleStorageFailed`.
   */
  async read(ref: BundleRef): Promise<Uint8Array> {
    this.reads++;
    const info = await this.info(ref.id);
    if (!info) throw notFound(ref, this.bucket);
    if (info.size !== ref.size)
      throw new EddyError(ErrorCode.BundleCorrupt, `bundle ${ref.id} has ${info.size} bytes, ${ref.size} expected`, { details: { bundle: ref.id } });
    try {
      return await readObject(this.js, this.bucket, info, TRANSFER_TIMEOUT_MS);
    } catch (err) {
      if (err instanceof ObjectCorruptError) throw new EddyError(ErrorCode.BundleCorrupt, `bundle ${ref.id} arrived corrupt: ${err.message}`, { cause: err });
      throw failed(`cannot download bundle ${ref.id}`, err);
    }
  }

  private async info(id: string): Promise<ObjectInfo | null> {
    try {
      const info = await withTimeout(this.os.info(id), META_TIMEOUT_MS, `looking up bundle ${id}`);
      return info && !info.deleted ? info : null;
    } catch (err) {
      throw failed(`cannot look up bundle ${id} in ${this.bucket}`, err);
    }
  }
}

function soundInfo(info: ObjectInfo, ref: BundleRef): boolean {
  return info.size === ref.size && info.digest === objectDigestOf(ref.id);
}

function notFound(ref: BundleRef, bucket: string): NotFoundError {
  return new NotFoundError(ErrorCode.BundleNotFound, `bundle ${ref.id} is not in ${bucket}; upload it first (eddy run does)`, { details: { bundle: ref.id } });
}
