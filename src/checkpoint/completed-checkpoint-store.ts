/**
 * The completed checkpoints of one job (Flink's DefaultCompletedCheckpointStore with its
 * CheckpointsCleaner): metadata in the KV bucket `<prefix>_checkpoints` under `<jobId>.chk.<id>`,
 * state in {@link CheckpointStorage}. Keeps the newest `retain` checkpoints; older ones are
 * subsumed: removed from KV at once and their objects deleted in the background. A subsumed
 * checkpoint whose objects are not yet deleted is recorded under `<jobId>.discard.<id>` until they
 * are, so a failed deletion is logged and retried (on a timer, on the next add, on the next open)
 * and never lost.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { decode, encode } from "../codec/codec.js";
import { ConflictError, EddyError, ErrorCode, InternalError, ValidationError } from "../core/errors.js";
import { createLogger, type Logger } from "../core/logger.js";
import type { Subjects } from "../rpc/subjects.js";
import { listKeys, removeKey, removeKeys } from "../ha/kv.js";
import { retryTransient } from "../jetstream/index.js";
import { isRevisionConflict } from "../jetstream/index.js";
import { openCheckpointsBucket, type CheckpointsBucket } from "./checkpoint-id-counter.js";
import type { CheckpointStorage } from "./storage.js";
import { checkpointPrefix, jobPrefix } from "./names.js";
import type { CompletedCheckpoint } from "./types.js";

/** Every state object named by a checkpoint's (or savepoint's) handles. */
export function stateObjectsOf(cp: CompletedCheckpoint): string[] {
  const out = new Set<string>();
  for (const v of Object.values(cp.vertices ?? {})) {
    for (const st of v.subtasks ?? []) {
      for (const op of Object.values(st?.operators ?? {})) {
        for (const h of [op.keyed, op.operator, op.raw]) if (h?.object) out.add(h.object);
      }
    }
  }
  return [...out];
}

/** How many times a globally terminal shutdown lists and deletes the job's keys before it gives up. */
const MAX_REMOVAL_ROUNDS = 5;

/** A subsumed checkpoint whose objects are still to be deleted (`<jobId>.discard.<id>`). */
interface DiscardMarker {
  checkpointId: number;
  /** Objects named by its handles outside its {@link checkpointPrefix} (everything inside goes by prefix). */
  extraObjects: string[];
  since: number;
}

/** Options of {@link CompletedCheckpointStore.open}. */
export interface CompletedCheckpointStoreOptions {
  /** Completed checkpoints kept (Flink's state.checkpoints.num-retained), default 1. */
  retain?: number;
  /** When given, deletions left pending by an earlier JobMaster are retried at once. */
  storage?: CheckpointStorage;
  logger?: Logger;
  /** First delay before a failed deletion is retried (doubling up to 60 s), default 1 000 ms. */
  retryDelayMs?: number;
}

/** The completed checkpoints of one job. */
export class CompletedCheckpointStore {
  private storage: CheckpointStorage | undefined;
  private running: Promise<void> | undefined;
  private rerun = false;
  /** A checkpoint was added: older ones are to be subsumed (in the background). */
  private subsumeDue = false;
  /**
   * The newest checkpoint whose latest pointer was written: subsuming considers only checkpoints up
   * to it, so a background run never removes the checkpoint the pointer still names while a newer
   * one's entry is written but its pointer is not (yet, or ever: its write may fail).
   */
  private subsumeUpTo = 0;
  /** The adds in progress, chained: each runs after the one before it settled. */
  private adding: Promise<unknown> = Promise.resolve();
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay: number;

  private constructor(
    private readonly bucket: CheckpointsBucket,
    /** The job whose checkpoints these are. */
    readonly jobId: string,
    /** How many completed checkpoints are kept. */
    readonly retain: number,
    private readonly log: Logger,
    private readonly firstRetryDelayMs: number,
  ) {
    this.retryDelay = firstRetryDelayMs;
  }

  /** Opens the store of `jobId` (what an earlier JobMaster stored is there: this is recovery). */
  static async open(nc: NatsConnection, subjects: Subjects, jobId: string, opts: CompletedCheckpointStoreOptions = {}): Promise<CompletedCheckpointStore> {
    jobPrefix(jobId); // validates the id
    const retain = opts.retain ?? 1;
    if (!Number.isSafeInteger(retain) || retain < 1) throw new ValidationError(ErrorCode.MalformedRequest, `retain must be an integer >= 1, got ${retain}`);
    const log = opts.logger?.child({ jobId }) ?? createLogger("completed-checkpoint-store", { jobId });
    const store = new CompletedCheckpointStore(await openCheckpointsBucket(nc, subjects), jobId, retain, log, opts.retryDelayMs ?? 1_000);
    if (opts.storage) {
      store.storage = opts.storage;
      store.kick();
    }
    return store;
  }

  /**
   * Stores `cp` (a CHECKPOINT of this job) and records it as the latest (unless a newer one already
   * is: adds run one at a time, in call order); resolves then. Subsuming
   * follows in the background: every checkpoint beyond the newest `retain` leaves KV and its objects
   * are deleted ({@link awaitDiscards} waits for both). Adding an id again with the same contents is a no-op;
   * with other contents it is a ConflictError (`DuplicateCheckpoint`). `leads`, checked before each
   * write: false refuses the write with NotLeader (a former leader's write could land after the job's
   * end removed its keys, and re-create them).
   */
  add(cp: CompletedCheckpoint, storage: CheckpointStorage, leads: () => boolean = () => true): Promise<void> {
    // One at a time, in call order: the pointer then only moves forward.
    const run = this.adding.then(() => this.addNow(cp, storage, leads));
    this.adding = run.catch(() => undefined); // the caller gets the failure from `run`; the chain goes on
    return run;
  }

  private async addNow(cp: CompletedCheckpoint, storage: CheckpointStorage, leads: () => boolean): Promise<void> {
    const mustLead = (what: string) => {
      if (!leads()) throw new EddyError(ErrorCode.NotLeader, `checkpoint ${cp.checkpointId} not ${what}: the JobManager no longer leads`);
    };
    if (this.closed) throw new EddyError(ErrorCode.Shutdown, `the checkpoint store of job ${this.jobId} is shut down`);
    if (cp.jobId !== this.jobId) throw new InternalError(`checkpoint of job ${cp.jobId} added to the store of job ${this.jobId}`);
    if (cp.kind !== "CHECKPOINT") throw new InternalError("savepoints are not owned by the completed checkpoint store: use SavepointStore");
    checkpointPrefix(this.jobId, cp.checkpointId); // validates the id
    this.storage = storage;
    const key = this.chkKey(cp.checkpointId);
    const value = encode(cp);
    mustLead("stored");
    try {
      await this.bucket.kv.create(key, value);
    } catch (err) {
      // Not a conflict: the write may still have landed (a timeout while a replicated stream changes
      // leader). Read back to know; when even that fails the outcome stays unknown (Flink's
      // PossibleInconsistentStateException) and the caller must keep the state.
      if (!isRevisionConflict(err)) {
        // A read-back that finds nothing proves nothing either: the write may still be committed by
        // the stream's next leader. Its state is kept (an orphan costs space until the job ends).
        const landed = await retryTransient(() => this.bucket.kv.get(key), 30_000).catch(() => undefined);
        if (landed?.operation !== "PUT") throw possiblyStored(this.failed(`store checkpoint ${cp.checkpointId}`, err));
      }
      const existing = await this.bucket.kv.get(key);
      if (!existing || Buffer.compare(existing.value, value) !== 0) {
        throw new ConflictError(ErrorCode.DuplicateCheckpoint, `checkpoint ${cp.checkpointId} of job ${this.jobId} is already stored with other contents`);
      }
    }
    // An older checkpoint completed after a newer one was recorded (several in flight): the pointer
    // stays on the newer one, and this one is subsumed like any older one.
    if (cp.checkpointId < this.subsumeUpTo) {
      this.subsumeDue = true;
      this.kick();
      return;
    }
    // The pointer to the newest checkpoint: `latest()` reads it with a plain get, so a restore never
    // depends on a key listing alone (a listing on a NATS cluster that just lost a server can come
    // back empty, which would restart a job from scratch).
    let advanced: boolean;
    try {
      advanced = await retryTransient(() => (mustLead("recorded as the latest"), this.advancePointer(cp.checkpointId)), 30_000);
    } catch (err) {
      throw possiblyStored(this.failed(`record checkpoint ${cp.checkpointId} as the latest`, err));
    }
    if (!advanced) {
      this.log.warn(
        { checkpointId: cp.checkpointId },
        "the latest pointer names a newer checkpoint of another JobMaster (a newer leader's): this one is subsumed",
      );
      this.subsumeDue = true;
      this.kick();
      return;
    }
    // Subsuming the older checkpoints and deleting their state run in the background (Flink discards
    // subsumed checkpoints asynchronously): the checkpoint is complete once its pointer is written, and
    // a listing slowed by a NATS server's loss must not hold back its completion.
    this.subsumeUpTo = Math.max(this.subsumeUpTo, cp.checkpointId);
    this.subsumeDue = true;
    this.kick();
  }

  /**
   * Moves the latest pointer to `checkpointId` unless it names a newer checkpoint already; false then.
   * The write is revision-checked, so a JobMaster of a former leader (a zombie woken after a standby
   * took over, whose checkpoint ids are older) can never move the pointer back, whatever it completes.
   */
  private async advancePointer(checkpointId: number): Promise<boolean> {
    for (;;) {
      const e = await this.bucket.kv.get(this.latestKey);
      const current = e && e.operation === "PUT" && e.value.length ? (decode(e.value) as number) : undefined;
      if (current !== undefined && current >= checkpointId) return current === checkpointId;
      try {
        if (e) await this.bucket.kv.update(this.latestKey, encode(checkpointId), e.revision);
        else await this.bucket.kv.create(this.latestKey, encode(checkpointId));
        return true;
      } catch (err) {
        // Another writer moved the pointer between the read and the write: read it again.
        if (!isRevisionConflict(err)) throw err;
      }
    }
  }

  /**
   * The newest completed checkpoint, or undefined when there is none: the one the latest pointer
   * names; without a pointer, the newest listed. Throws when the pointer names a checkpoint that
   * cannot be read, rather than answer "none" (a job would start over and emit its committed output
   * again).
   */
  async latest(): Promise<CompletedCheckpoint | undefined> {
    const pointer = await this.bucket.kv.get(this.latestKey).catch((err: unknown) => {
      throw this.failed("read the latest checkpoint pointer", err);
    });
    const pointed = pointer && pointer.operation === "PUT" && pointer.value.length ? (decode(pointer.value) as number) : undefined;
    // The pointer, once there, is the answer: a newer entry without it is one whose recording failed
    // half-way (its state may have been discarded); an older one may be subsumed any moment.
    if (pointed !== undefined) {
      const cp = await this.get(pointed);
      if (!cp) throw this.failed(`read checkpoint ${pointed}, the latest`, new Error("its entry is missing"));
      return cp;
    }
    // No pointer yet: the first checkpoint's pointer write failed (its state is kept), or none was taken.
    const ids = await this.ids();
    for (let i = ids.length - 1; i >= 0; i--) {
      const cp = await this.get(ids[i]!);
      if (cp) return cp;
    }
    return undefined;
  }

  private get latestKey(): string {
    return `${this.jobId}.latest`;
  }

  /** Every completed checkpoint kept, oldest first. */
  async all(): Promise<CompletedCheckpoint[]> {
    const cps = await Promise.all((await this.ids()).map((id) => this.get(id)));
    return cps.filter((c): c is CompletedCheckpoint => c !== undefined);
  }

  /** Ids of subsumed checkpoints whose objects are still to be deleted. */
  async pendingDiscards(): Promise<number[]> {
    return this.idsOf("discard");
  }

  /** Resolves once the background deletions scheduled so far have run (successfully or not). */
  async awaitDiscards(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Stops the store. Globally terminal (FINISHED, CANCELED, FAILED): removes every checkpoint of
   * the job, the objects under `<jobId>/` (also those of aborted checkpoints), pending deletions and
   * the id counter; throws when something could not be removed (call again). Otherwise (suspended)
   * keeps everything for the next JobMaster. Savepoints are never touched.
   */
  async shutdown(globallyTerminal: boolean, storage: CheckpointStorage): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.awaitDiscards();
    if (!globallyTerminal) return;
    const prefix = jobPrefix(this.jobId);
    const extra = new Set<string>();
    for (const cp of await this.all()) for (const o of stateObjectsOf(cp)) if (!o.startsWith(prefix)) extra.add(o);
    for (const id of await this.pendingDiscards()) for (const o of (await this.marker(id))?.extraObjects ?? []) extra.add(o);
    await storage.deleteAll(extra);
    await storage.deletePrefix(prefix);
    try {
      // `<jobId>.>`: the checkpoints, the pending deletions and the id counter (`<jobId>.counter`).
      // Listed again after the deletions until a listing finds nothing: a key written while they ran
      // (by a JobMaster not yet stopped) goes too.
      for (let round = 1, n = await removeKeys(this.bucket.kv, `${this.jobId}.>`); n > 0; round++) {
        if (round > MAX_REMOVAL_ROUNDS) throw new Error(`keys were still written after ${MAX_REMOVAL_ROUNDS} rounds of deletions`);
        n = await removeKeys(this.bucket.kv, `${this.jobId}.>`);
        if (n > 0) this.log.warn({ keys: n, round }, "checkpoint keys written during the job's removal were removed too");
      }
    } catch (err) {
      throw this.failed("remove the checkpoints", err);
    }
    this.log.info("removed every checkpoint of the job");
  }

  private chkKey(id: number): string {
    return `${this.jobId}.chk.${id}`;
  }

  private discardKey(id: number): string {
    return `${this.jobId}.discard.${id}`;
  }

  private async idsOf(kind: "chk" | "discard"): Promise<number[]> {
    const ids: number[] = [];
    try {
      for (const k of await listKeys(this.bucket.kv, `${this.jobId}.${kind}.*`)) {
        const id = Number(k.slice(k.lastIndexOf(".") + 1));
        if (Number.isSafeInteger(id)) ids.push(id);
      }
    } catch (err) {
      throw this.failed(`list the ${kind} keys`, err);
    }
    // A listing read again after a consumer's reset may name a key twice.
    return [...new Set(ids)].sort((a, b) => a - b);
  }

  private ids(): Promise<number[]> {
    return this.idsOf("chk");
  }

  private async get(id: number): Promise<CompletedCheckpoint | undefined> {
    const e = await this.bucket.kv.get(this.chkKey(id)).catch((err: unknown) => {
      throw this.failed(`read checkpoint ${id}`, err);
    });
    if (e?.operation !== "PUT" || e.value.length === 0) return undefined;
    return decode(e.value) as CompletedCheckpoint;
  }

  private async marker(id: number): Promise<DiscardMarker | undefined> {
    const e = await this.bucket.kv.get(this.discardKey(id));
    if (e?.operation !== "PUT" || e.value.length === 0) return undefined;
    return decode(e.value) as DiscardMarker;
  }

  /**
   * Moves every checkpoint beyond the newest `retain` up to {@link subsumeUpTo} from `chk` to
   * `discard` keys; newer entries (their pointer not written) are neither counted nor touched.
   */
  private async subsume(): Promise<void> {
    const upTo = this.subsumeUpTo;
    const ids = (await this.ids()).filter((id) => id <= upTo);
    for (const id of ids.slice(0, Math.max(0, ids.length - this.retain))) {
      const cp = await this.get(id);
      const prefix = checkpointPrefix(this.jobId, id);
      const marker: DiscardMarker = { checkpointId: id, extraObjects: cp ? stateObjectsOf(cp).filter((o) => !o.startsWith(prefix)) : [], since: Date.now() };
      await this.bucket.kv.put(this.discardKey(id), encode(marker));
      await removeKey(this.bucket.kv, this.chkKey(id));
    }
  }

  /** Starts (or queues one more run of) the background deletion of subsumed checkpoints. */
  private kick(): void {
    if (!this.storage || this.closed) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = (async () => {
      do {
        this.rerun = false;
        if (this.subsumeDue) {
          this.subsumeDue = false;
          await this.subsume().catch((err: unknown) => {
            // The older checkpoints stay in KV: the next add subsumes them (nothing is lost).
            this.subsumeDue = true;
            this.log.warn({ err: (err as Error).message }, "subsuming older checkpoints failed; retried on the next checkpoint");
          });
        }
        await this.discardPending(this.storage!);
      } while (this.rerun && !this.closed);
    })().finally(() => {
      this.running = undefined;
    });
  }

  /** One pass over the pending deletions; failures are logged and scheduled for a retry. */
  private async discardPending(storage: CheckpointStorage): Promise<void> {
    let failed = 0;
    let ids: number[] = [];
    try {
      ids = await this.pendingDiscards();
    } catch (err) {
      failed++;
      this.log.warn({ err: (err as Error).message }, "cannot list pending checkpoint deletions; retrying later");
    }
    for (const id of ids) {
      if (this.closed) break;
      try {
        const m = await this.marker(id);
        await storage.deleteAll(m?.extraObjects ?? []);
        const n = await storage.deletePrefix(checkpointPrefix(this.jobId, id));
        await removeKey(this.bucket.kv, this.discardKey(id));
        this.log.debug({ checkpointId: id, objects: n }, "discarded subsumed checkpoint");
      } catch (err) {
        failed++;
        this.log.warn({ err: (err as Error).message, checkpointId: id }, "cannot delete the state of a subsumed checkpoint; retrying later");
      }
    }
    if (failed && !this.closed) {
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, this.retryDelay).unref();
      this.retryDelay = Math.min(60_000, this.retryDelay * 2);
    } else if (!failed) {
      this.retryDelay = this.firstRetryDelayMs;
    }
  }

  private failed(what: string, err: unknown): EddyError {
    if (err instanceof EddyError) return err;
    return new EddyError(ErrorCode.CheckpointStorageFailed, `cannot ${what} of job ${this.jobId}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}

/**
 * Marks a failure after which the checkpoint may be in the store all the same (the outcome of the
 * write is unknown): its state must not be discarded (see {@link isPossiblyStored}).
 */
export function possiblyStored<E extends Error>(err: E): E {
  (err as E & { possiblyStored?: boolean }).possiblyStored = true;
  return err;
}

/** True for a failure marked by {@link possiblyStored}. */
export function isPossiblyStored(err: unknown): boolean {
  return (err as { possiblyStored?: unknown } | null)?.possiblyStored === true;
}
