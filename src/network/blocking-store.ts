/**
 * Where BLOCKING result partitions live: one JetStream stream per job, `<prefix>_bp_<jobId>`, with
 * the subjects `<prefix>.bp.<jobId>.>` and one subject per subpartition of a producer attempt
 * (see {@link Subjects.blockingSubpartition}). File storage, `EDDY_KV_REPLICAS` replicas, no limits:
 * the data outlives the producer's TaskExecutor and stays until {@link releaseBlockingPartitions}.
 */
import {
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Subjects } from "../rpc/subjects.js";
import { kvReplicas } from "../ha/kv.js";
import { isStreamNotFound, retryTransient } from "../jetstream/index.js";
import { EddyError, ErrorCode, InternalError } from "../core/errors.js";
import type { NetworkConfig } from "./config.js";
import type { Logger } from "../core/logger.js";

/** Throws an InternalError unless `s` can be one subject token (and part of a stream name). */
export function checkSubjectToken(what: string, s: string): void {
  if (s.length === 0 || /[.*>\s/\\]/.test(s)) {
    throw new InternalError(`${what} "${s}" cannot name a BLOCKING partition subject (no dots, wildcards, slashes or whitespace)`, {
      details: { [what]: s },
    });
  }
}

/** The configuration of job `jobId`'s stream. */
export function blockingStreamConfig(subjects: Subjects, jobId: string, replicas = kvReplicas()): Partial<StreamConfig> & { name: string } {
  return {
    name: subjects.blockingStream(jobId),
    subjects: [subjects.blockingJobSubjects(jobId)],
    description: `Eddy BLOCKING result partitions of job ${jobId}`,
    storage: StorageType.File,
    num_replicas: replicas,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    max_msg_size: -1,
    allow_direct: false,
  };
}

/**
 * Creates job `jobId`'s stream unless it exists. Idempotent, and safe when several producers race:
 * the server accepts an identical creation, and any refusal is checked against the stream's existence.
 */
export async function ensureBlockingStream(jsm: JetStreamManager, subjects: Subjects, jobId: string, replicas = kvReplicas()): Promise<void> {
  checkSubjectToken("jobId", jobId);
  const cfg = blockingStreamConfig(subjects, jobId, replicas);
  try {
    // Looked up first: a worker's role may not create streams, and the JobMaster made this one.
    await jsm.streams.info(cfg.name).catch(() => retryTransient(() => jsm.streams.add(cfg), 20_000));
  } catch (err) {
    try {
      await jsm.streams.info(cfg.name);
    } catch {
      throw new EddyError(ErrorCode.TaskFailed, `cannot create the stream ${cfg.name} of BLOCKING partitions: ${(err as Error).message}`, { cause: err });
    }
  }
}

/**
 * JetStream handles of one NATS connection for BLOCKING partitions, and the job streams this
 * connection already made sure of (one creation request per job and worker thread).
 */
export class BlockingStore {
  readonly js: JetStreamClient;
  private jsm: Promise<JetStreamManager> | null = null;
  private readonly streams = new Map<string, Promise<void>>();

  constructor(
    readonly nc: NatsConnection,
    readonly subjects: Subjects,
    readonly cfg: NetworkConfig,
  ) {
    this.js = jetstream(nc, { timeout: cfg.blockingPublishTimeoutMs });
  }

  /** The JetStream manager (created once). */
  manager(): Promise<JetStreamManager> {
    if (this.jsm === null) {
      const p = jetstreamManager(this.nc, { checkAPI: false });
      this.jsm = p;
      p.catch(() => {
        if (this.jsm === p) this.jsm = null;
      });
    }
    return this.jsm;
  }

  /** Ensures job `jobId`'s stream exists (cached; a failure is retried by the next call). */
  ensureStream(jobId: string): Promise<void> {
    let p = this.streams.get(jobId);
    if (p === undefined) {
      p = this.manager().then((jsm) => ensureBlockingStream(jsm, this.subjects, jobId, kvReplicas(this.nc)));
      this.streams.set(jobId, p);
      p.catch(() => this.streams.delete(jobId));
    }
    return p;
  }
}

/**
 * Releases BLOCKING result partitions of job `jobId` (called by the JobMaster).
 * - With `producerAttemptIds`: purges the subjects of those producer attempts (attempts superseded by
 *   a restart, or partitions no consumer needs any more); other attempts' data stays. An empty list
 *   releases nothing.
 * - Without: deletes the job's stream (the job is globally terminal).
 *
 * Idempotent: a missing stream is not an error. Other failures reject with an EddyError.
 */
export async function releaseBlockingPartitions(nc: NatsConnection, subjects: Subjects, jobId: string, producerAttemptIds?: readonly string[]): Promise<void> {
  checkSubjectToken("jobId", jobId);
  if (producerAttemptIds !== undefined && producerAttemptIds.length === 0) return;
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const stream = subjects.blockingStream(jobId);
  try {
    if (producerAttemptIds === undefined) {
      await jsm.streams.delete(stream);
      return;
    }
    for (const a of producerAttemptIds) {
      checkSubjectToken("producerAttemptId", a);
      await jsm.streams.purge(stream, { filter: subjects.blockingAttemptSubjects(jobId, a) });
    }
  } catch (err) {
    if (isStreamNotFound(err)) return;
    throw new InternalError(`cannot release BLOCKING partitions of job ${jobId}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Deletes the BLOCKING partition streams of jobs not in `knownJobIds` (under this prefix): a job whose
 * JobManager died after it ended, or whose JobGraph is gone, leaves its stream behind otherwise.
 * Called by a new leader once it has recovered the jobs.
 */
export async function sweepBlockingStreams(nc: NatsConnection, subjects: Subjects, knownJobIds: ReadonlySet<string>, log?: Logger): Promise<string[]> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const prefix = subjects.blockingStream("");
  const deleted: string[] = [];
  for await (const name of jsm.streams.names()) {
    if (!name.startsWith(prefix)) continue;
    const jobId = name.slice(prefix.length);
    if (knownJobIds.has(jobId)) continue;
    await jsm.streams.delete(name).catch((err) => log?.warn({ err, stream: name }, "deleting a leftover BLOCKING stream failed"));
    deleted.push(name);
  }
  if (deleted.length) log?.info({ streams: deleted }, "leftover BLOCKING partition streams of ended jobs deleted");
  return deleted;
}
