/**
 * Checkpoint ids (Flink's CheckpointIDCounter, the ZooKeeper/Kubernetes flavours): one counter per
 * job in the KV bucket `<prefix>_checkpoints`, key `<jobId>.counter`, advanced by revision-checked
 * updates. It is HA state: ids stay monotonic across JobMaster restarts and failovers.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { decode, encode } from "../codec/codec.js";
import { EddyError, ErrorCode, InternalError } from "../core/errors.js";
import { openBucket, removeKey, type KV } from "../ha/kv.js";
import type { Subjects } from "../rpc/subjects.js";
import { isRevisionConflict } from "../jetstream/index.js";
import { jobPrefix } from "./names.js";

/** The first checkpoint id of a job (Flink's INITIAL_CHECKPOINT_ID). */
export const INITIAL_CHECKPOINT_ID = 1;

/** The checkpoints KV bucket (`<prefix>_checkpoints`, shared by counters, checkpoints and savepoints). */
export interface CheckpointsBucket {
  kv: KV;
  name: string;
}

/** Opens (creating if absent) the `<prefix>_checkpoints` KV bucket. */
export async function openCheckpointsBucket(nc: NatsConnection, subjects: Subjects): Promise<CheckpointsBucket> {
  const name = subjects.bucket("checkpoints");
  try {
    return { kv: await openBucket(nc, name), name };
  } catch (err) {
    throw new EddyError(ErrorCode.CheckpointStorageFailed, `cannot open the KV bucket ${name}: ${(err as Error).message}`, { cause: err });
  }
}

/** A job's checkpoint id counter. */
export class CheckpointIdCounter {
  private readonly key: string;

  private constructor(
    private readonly bucket: CheckpointsBucket,
    /** The job whose ids these are. */
    readonly jobId: string,
    private readonly maxAttempts: number,
  ) {
    jobPrefix(jobId); // validates the id (it is part of a KV key and of object names)
    this.key = `${jobId}.counter`;
  }

  /** Opens the counter of `jobId` (the key is created on the first {@link getAndIncrement}). */
  static async open(nc: NatsConnection, subjects: Subjects, jobId: string, opts: { maxAttempts?: number } = {}): Promise<CheckpointIdCounter> {
    return CheckpointIdCounter.over(await openCheckpointsBucket(nc, subjects), jobId, opts);
  }

  /** The counter of `jobId` in an already open bucket. */
  static over(bucket: CheckpointsBucket, jobId: string, opts: { maxAttempts?: number } = {}): CheckpointIdCounter {
    return new CheckpointIdCounter(bucket, jobId, opts.maxAttempts ?? 1_000);
  }

  /** Answers the next id and advances the counter (compare-and-set, retried on conflict). */
  async getAndIncrement(): Promise<number> {
    return this.cas((current) => ({ next: current + 1, answer: current }));
  }

  /** The id that the next {@link getAndIncrement} will answer (1 for a new job). */
  async get(): Promise<number> {
    try {
      return (await this.read()).value;
    } catch (err) {
      throw this.failed("read", err);
    }
  }

  /**
   * Makes the next id at least `next` (Flink's setCount, used when restoring a savepoint so new
   * checkpoints do not reuse its id). Never lowers the counter: ids stay monotonic.
   */
  async setCount(next: number): Promise<void> {
    if (!Number.isSafeInteger(next) || next < INITIAL_CHECKPOINT_ID) {
      throw new InternalError(`checkpoint id counter: ${next} is not a valid next id`);
    }
    await this.cas((current) => ({ next: Math.max(current, next), answer: 0 }));
  }

  /** Removes the counter (the job reached a globally terminal state): no key and no marker stay. */
  async remove(): Promise<void> {
    try {
      await removeKey(this.bucket.kv, this.key);
    } catch (err) {
      throw this.failed("remove", err);
    }
  }

  private async read(): Promise<{ value: number; revision: number }> {
    const e = await this.bucket.kv.get(this.key);
    if (e?.operation !== "PUT" || e.value.length === 0) return { value: INITIAL_CHECKPOINT_ID, revision: 0 };
    const v = decode(e.value);
    if (typeof v !== "number" || !Number.isSafeInteger(v)) {
      throw new EddyError(ErrorCode.StateCorrupt, `checkpoint id counter ${this.key} holds ${JSON.stringify(v)}, not an id`);
    }
    return { value: v, revision: e.revision };
  }

  private async cas(step: (current: number) => { next: number; answer: number }): Promise<number> {
    let lastConflict: unknown;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      try {
        const { value, revision } = await this.read();
        const { next, answer } = step(value);
        if (revision === 0) await this.bucket.kv.create(this.key, encode(next));
        else if (next !== value) await this.bucket.kv.update(this.key, encode(next), revision);
        return answer;
      } catch (err) {
        if (!isRevisionConflict(err)) throw this.failed("advance", err);
        lastConflict = err;
        // Another client won this round: back off a little (jittered) and read again.
        if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(20, attempt)));
      }
    }
    throw this.failed(`advance (${this.maxAttempts} conflicting attempts)`, lastConflict);
  }

  private failed(what: string, err: unknown): EddyError {
    if (err instanceof EddyError) return err;
    return new EddyError(ErrorCode.CheckpointStorageFailed, `cannot ${what} checkpoint id counter ${this.key}: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    });
  }
}
