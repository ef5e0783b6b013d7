/**
 * Liveness of TaskExecutors through NATS itself, with nothing sent while all is well. Each
 * TaskExecutor holds an ephemeral JetStream push consumer named after it, on a stream that never
 * holds a message, delivering to a subscription of its own connection. When that connection is
 * gone the server sees the interest vanish and deletes the consumer after {@link LIVENESS_THRESHOLD_MS},
 * publishing `$JS.EVENT.ADVISORY.CONSUMER.DELETED.<stream>.<teId>` in the account: the
 * ResourceManager listens for those advisories and confirms the loss with a probe.
 */
import { createInbox, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, jetstreamManager, StorageType } from "@nats-io/jetstream";
import type { Logger } from "../../src/core/logger.js";
import { withTimeout } from "../../src/core/time.js";
import { onReconnect } from "../../src/rpc/nats.js";
import { subscribeProtocol } from "../../src/rpc/stream-delivery.js";
import { openOrCreate } from "../../src/jetstream/index.js";
import type { Subjects } from "../../src/rpc/subjects.js";
import { kvReplicas } from "../../src/ha/index.js";

/** How long a marker's connection may be gone before the server deletes the marker. */
export const LIVENESS_THRESHOLD_MS = 200;

/** How long a worker waits for the ResourceManager to create the liveness stream. */
const LIVENESS_STREAM_WAIT_MS = 30_000;

/** What the server publishes when it deletes a consumer: `<this>.<stream>.<consumer>`. */
const DELETED_ADVISORY = "$JS.EVENT.ADVISORY.CONSUMER.DELETED";

/** The stream the markers are consumers of (one per prefix; it never holds a message). */
export function livenessStream(subjects: Subjects): string {
  return `${subjects.prefix}_liveness`;
}

/**
 * Creates the liveness stream unless it exists (the ResourceManager does at its start; a worker,
 * whose role may create no stream, finds it). Returns its name.
 */
export async function ensureLivenessStream(nc: NatsConnection, subjects: Subjects): Promise<string> {
  const jsm = await jetstreamManager(nc);
  const stream = livenessStream(subjects);
  await openOrCreate(
    () => jsm.streams.info(stream),
    () =>
      jsm.streams
        .add({ name: stream, subjects: [`${subjects.prefix}.liveness`], storage: StorageType.Memory, max_msgs: 1, num_replicas: kvReplicas(nc) })
        // Created meanwhile by another process (possibly with another config): fine as long as it exists.
        .catch(async (err: unknown) => jsm.streams.info(stream).catch(() => Promise.reject(err))),
    LIVENESS_STREAM_WAIT_MS,
  );
  return stream;
}

/** A TaskExecutor's liveness marker: re-created whenever its connection is re-established. */
export class LivenessMarker {
  private sub: Subscription | undefined;
  private deleted: Subscription | undefined;
  private stopReconnect: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly teId: string,
    private readonly log: Logger,
    /** The connection's inbox prefix: the worker role may subscribe to no other inbox. */
    private readonly inboxPrefix?: string,
  ) {}

  /** Creates the marker; a failure is logged (the ResourceManager's slow probe still covers this TaskExecutor). */
  async start(): Promise<void> {
    // The subscription exists before the consumer, which would otherwise be deleted for lack of interest.
    const inbox = createInbox(this.inboxPrefix);
    this.sub = this.nc.subscribe(inbox, { callback: () => undefined });
    // After an outage longer than the threshold the server has deleted the marker: it is made again,
    // as when it is deleted under a live connection (its stream's server lost on a NATS cluster).
    this.stopReconnect = onReconnect(this.nc, () => void this.create(inbox));
    this.deleted = this.nc.subscribe(`${DELETED_ADVISORY}.${livenessStream(this.subjects)}.${this.teId}`, { callback: () => void this.create(inbox) });
    await this.create(inbox);
  }

  private async create(inbox: string): Promise<void> {
    if (this.stopped) return;
    try {
      const jsm = await jetstreamManager(this.nc);
      const stream = await ensureLivenessStream(this.nc, this.subjects);
      await withTimeout(
        jsm.consumers.add(stream, {
          name: this.teId,
          deliver_subject: inbox,
          ack_policy: AckPolicy.None,
          deliver_policy: DeliverPolicy.New,
          inactive_threshold: LIVENESS_THRESHOLD_MS * 1_000_000,
        }),
        5_000,
        "creating the liveness marker",
      );
    } catch (err) {
      this.log.warn({ err }, "liveness marker not created; the ResourceManager's periodic probe covers this TaskExecutor");
    }
  }

  /** Removes the marker: an orderly stop is announced by the TaskExecutor itself. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopReconnect?.();
    this.deleted?.unsubscribe();
    const jsm = await withTimeout(jetstreamManager(this.nc), 1_000, "liveness stop").catch(() => undefined);
    await withTimeout(jsm?.consumers.delete(livenessStream(this.subjects), this.teId) ?? Promise.resolve(true), 1_000, "deleting the liveness marker").catch(
      () => undefined,
    );
    this.sub?.unsubscribe();
  }
}

/** Calls `onGone(teId)` for every marker the server deletes (its TaskExecutor's connection gone). */
export function watchLiveness(nc: NatsConnection, subjects: Subjects, onGone: (teId: string) => void): Subscription {
  const prefix = `${DELETED_ADVISORY}.${livenessStream(subjects)}.`;
  // The server publishes advisories without a reply; one replayed from a stream is not its word.
  return subscribeProtocol(nc, `${prefix}*`, (m) => onGone(m.subject.slice(prefix.length)));
}
