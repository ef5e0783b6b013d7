/**
 * Savepoints (Flink's savepoint metadata and `disposeSavepoint`): owned by the user, not by a
 * job. Metadata lives in the KV bucket `<prefix>_checkpoints` under `savepoint.<savepointId>`,
 * state under `savepoints/<savepointId>/` in {@link CheckpointStorage}. Neither a job's checkpoint
 * store nor its shutdown ever touches them; only {@link SavepointStore.dispose} removes one.
 */
import { randomBytes } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { decode, encode } from "../codec/codec.js";
import { ConflictError, EddyError, ErrorCode, InternalError, NotFoundError, ValidationError } from "../core/errors.js";
import type { Subjects } from "../rpc/subjects.js";
import { listKeys, removeKey } from "../ha/kv.js";
import { isRevisionConflict } from "../jetstream/index.js";
import { openCheckpointsBucket, type CheckpointsBucket } from "./checkpoint-id-counter.js";
import { stateObjectsOf } from "./completed-checkpoint-store.js";
import type { CheckpointStorage } from "./storage.js";
import { savepointPrefix } from "./names.js";
import type { CompletedCheckpoint } from "./types.js";

/** A savepoint: a completed snapshot of kind SAVEPOINT with its own stable, printable id. */
export type Savepoint = CompletedCheckpoint & { savepointId: string };

const SAVEPOINT_ID = /^[A-Za-z0-9_-]+$/;

/** A new random savepoint id, `sp-<16 hex digits>`. */
export function newSavepointId(): string {
  return `sp-${randomBytes(8).toString("hex")}`;
}

/** The savepoints of the cluster (all jobs). */
export class SavepointStore {
  private constructor(private readonly bucket: CheckpointsBucket) {}

  /** Opens the store (creating the bucket if absent). */
  static async open(nc: NatsConnection, subjects: Subjects): Promise<SavepointStore> {
    return new SavepointStore(await openCheckpointsBucket(nc, subjects));
  }

  /**
   * Records a savepoint whose state is already written. Adding the same id again with the same
   * contents is a no-op; with other contents it is a ConflictError (`DuplicateCheckpoint`).
   */
  async add(savepoint: Savepoint): Promise<void> {
    const key = this.key(savepoint.savepointId);
    if (savepoint.kind !== "SAVEPOINT") throw new InternalError(`savepoint ${savepoint.savepointId} has kind ${savepoint.kind}`);
    const value = encode(savepoint);
    try {
      await this.bucket.kv.create(key, value);
    } catch (err) {
      if (!isRevisionConflict(err)) throw failed(`store savepoint ${savepoint.savepointId}`, err);
      const existing = await this.bucket.kv.get(key);
      if (!existing || Buffer.compare(existing.value, value) !== 0) {
        throw new ConflictError(ErrorCode.DuplicateCheckpoint, `savepoint ${savepoint.savepointId} is already stored with other contents`);
      }
    }
  }

  /** The savepoint `savepointId`, or undefined when there is none. */
  async get(savepointId: string): Promise<Savepoint | undefined> {
    let e: Awaited<ReturnType<CheckpointsBucket["kv"]["get"]>>;
    try {
      e = await this.bucket.kv.get(this.key(savepointId));
    } catch (err) {
      throw failed(`read savepoint ${savepointId}`, err);
    }
    if (e?.operation !== "PUT" || e.value.length === 0) return undefined;
    return decode(e.value) as Savepoint;
  }

  /** Every savepoint, oldest first (by completion time, then id). */
  async list(): Promise<Savepoint[]> {
    const ids: string[] = [];
    try {
      for (const k of await listKeys(this.bucket.kv, "savepoint.*")) ids.push(k.slice("savepoint.".length));
    } catch (err) {
      throw failed("list savepoints", err);
    }
    const all = (await Promise.all(ids.map((id) => this.get(id)))).filter((s): s is Savepoint => s !== undefined);
    return all.sort((a, b) => a.completedAt - b.completedAt || (a.savepointId < b.savepointId ? -1 : a.savepointId > b.savepointId ? 1 : 0));
  }

  /**
   * Deletes a savepoint: its objects (those under `savepoints/<id>/` and any other its handles
   * name), then its metadata, so a failed disposal can be retried. NotFoundError
   * (`SavepointNotFound`) when neither metadata nor objects exist.
   */
  async dispose(savepointId: string, storage: CheckpointStorage): Promise<void> {
    const sp = await this.get(savepointId);
    const prefix = savepointPrefix(savepointId);
    const extra = sp ? stateObjectsOf(sp).filter((o) => !o.startsWith(prefix)) : [];
    const deleted = (await storage.deleteAll(extra)) + (await storage.deletePrefix(prefix));
    if (!sp && deleted === 0) {
      throw new NotFoundError(ErrorCode.SavepointNotFound, `savepoint ${savepointId} does not exist`, { details: { savepointId } });
    }
    try {
      await removeKey(this.bucket.kv, this.key(savepointId));
    } catch (err) {
      throw failed(`remove savepoint ${savepointId}`, err);
    }
  }

  private key(savepointId: string): string {
    if (!SAVEPOINT_ID.test(savepointId)) throw new ValidationError(ErrorCode.MalformedRequest, `savepoint id "${savepointId}" must match [A-Za-z0-9_-]+`);
    return `savepoint.${savepointId}`;
  }
}

function failed(what: string, err: unknown): EddyError {
  if (err instanceof EddyError) return err;
  return new EddyError(ErrorCode.CheckpointStorageFailed, `cannot ${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
