/**
 * The consumer side of BLOCKING result partitions: an input channel that reads its subpartition's
 * subject from JetStream, from the first message, with an ephemeral pull consumer of its own
 * (in memory, no acks) and explicit fetches of at most as many messages as it has credit for, so
 * the gate never holds more unrecycled batches of it than its credits (exclusive and floating, the
 * same rules as the other links; the stream's pending count stands for the producer's backlog).
 *
 * - Every read starts at the subject's first frame: a second consumer attempt re-reads the same data.
 * - While the producer is still writing, the channel waits for more; it ends at END_OF_PARTITION.
 * - Nothing on the subject (or no stream) within `partitionRequestTimeoutMs`: PartitionNotFound,
 *   unless the producer attempt still runs (it answers a PING on its control subject): then the
 *   channel waits another period (a producer in the same region may be slow to write its first buffer).
 * - An ERROR frame (the producer was released before its end) fails the input with that error; a
 *   producer that died without one leaves the channel waiting (its consumer is canceled by the
 *   scheduler's failover), never ended.
 * - The stream deleted while reading (the job's partitions were released): PartitionNotFound.
 */
import { AckPolicy, DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import { InternalError } from "../core/errors.js";
import { sleep } from "../core/time.js";
import { decodeErrorFrame, encodePing, FRAME_HEADER_BYTES, FRAME_VERSION, frameKind, frameSeq, FrameKind, frameVersion, versionError } from "./frame.js";
import { InputChannel, partitionNotFound, type ChannelPosition } from "./input-channel.js";
import type { UnionInput } from "./union-input.js";
import { isStreamNotFound } from "../jetstream/index.js";
import { checkSubjectToken, type BlockingStore } from "./blocking-store.js";

/** An ephemeral consumer nobody pulls from for this long is removed by the server (a new one resumes). */
const CONSUMER_INACTIVE_MS = 60_000;
/** Heartbeat of a waiting fetch; two missed ones end it (the consumer is recreated). */
const FETCH_HEARTBEAT_MS = 500;
/** Consecutive failures of consumer creation or fetch (other than a missing stream) before the channel fails. */
const MAX_CONSECUTIVE_FAILURES = 5;

/** Input channel of a BLOCKING result partition, read from JetStream. */
export class BlockingInputChannel extends InputChannel {
  /** Subject of the subpartition read. */
  readonly subject: string;
  /** The job's stream. */
  readonly stream: string;
  /** Credits announced and not used by a delivered buffer. */
  private credit: number;
  /** Messages fetched while there was no credit for them (at most one in practice). */
  private readonly parked: JsMsg[] = [];
  private consumer: Consumer | null = null;
  private consumerName: string | null = null;
  private fetch: ConsumerMessages | null = null;
  /** Stream sequence of the last message taken from JetStream (a new consumer resumes after it). */
  private lastSeq = 0;
  /** A frame of the subject arrived. */
  private seen = false;
  private done = false;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    input: UnionInput,
    pos: ChannelPosition,
    private readonly store: BlockingStore,
    jobId: string,
  ) {
    super(input, pos);
    checkSubjectToken("producerAttemptId", pos.desc.producerAttemptId);
    checkSubjectToken("resultId", pos.resultId);
    this.credit = pos.credits;
    this.stream = store.subjects.blockingStream(jobId);
    this.subject = store.subjects.blockingSubpartition(jobId, pos.desc.producerAttemptId, pos.resultId, pos.desc.subpartitionIndex);
  }

  start(): void {
    this.armDeadline();
    this.run()
      .catch((err: unknown) => this.stop(err))
      .finally(() => this.cleanup());
  }

  protected sendCredit(n: number): void {
    this.credit += n;
    this.wakeUp();
  }

  protected releaseLink(): void {
    this.stop();
  }

  /** Pulls and delivers until END, failure or release. */
  private async run(): Promise<void> {
    const cfg = this.store.cfg;
    let failures = 0;
    let delay = cfg.requestBackoffInitialMs;
    while (!this.done) {
      if (this.parked.length > 0) {
        if (this.credit === 0) await this.waitForCredit();
        else this.handle(this.parked.shift()!);
        continue;
      }
      if (this.consumer === null) {
        try {
          this.consumer = await this.createConsumer();
          delay = cfg.requestBackoffInitialMs;
        } catch (err) {
          if (isStreamNotFound(err)) {
            if (this.seen) throw partitionNotFound(this, `the stream ${this.stream} was deleted (the partitions were released)`);
          } else if (++failures >= MAX_CONSECUTIVE_FAILURES) {
            throw err;
          }
          await sleep(delay);
          delay = Math.min(delay * 2, cfg.requestBackoffMaxMs);
        }
        continue;
      }
      try {
        // without credit, one message is still fetched: END needs none; a DATA frame waits parked
        const it = await this.consumer.fetch({
          max_messages: Math.max(1, this.credit),
          expires: Math.max(1_000, cfg.blockingFetchExpiresMs),
          // a pull on a consumer that is gone gets no answer: two missed heartbeats tell
          idle_heartbeat: FETCH_HEARTBEAT_MS,
        });
        this.fetch = it;
        if (this.done) it.stop();
        for await (const m of it) {
          if (this.done) break;
          this.lastSeq = m.seq;
          if (this.credit === 0 && frameKind(m.data) === FrameKind.Data) this.parked.push(m);
          else this.handle(m);
        }
        failures = 0;
      } catch (err) {
        if (this.done) break;
        // the consumer may be gone (inactive, server restart): a new one resumes after lastSeq
        this.dropConsumer();
        if (++failures >= MAX_CONSECUTIVE_FAILURES) throw err;
        await sleep(delay);
        delay = Math.min(delay * 2, cfg.requestBackoffMaxMs);
      } finally {
        this.fetch = null;
      }
    }
  }

  private async createConsumer(): Promise<Consumer> {
    const jsm = await this.store.manager();
    const ci = await jsm.consumers.add(this.stream, {
      filter_subject: this.subject,
      ack_policy: AckPolicy.None,
      ...(this.lastSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSeq + 1 } : { deliver_policy: DeliverPolicy.All }),
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: CONSUMER_INACTIVE_MS * 1_000_000,
    });
    this.consumerName = ci.name;
    if (this.done) this.dropConsumer();
    return this.store.js.consumers.getConsumerFromInfo(ci);
  }

  /** One frame of the subject. */
  private handle(m: JsMsg): void {
    const b = m.data;
    if (!this.seen) {
      this.seen = true;
      this.clearTimer();
    }
    if (b.length < FRAME_HEADER_BYTES) {
      this.stop(new InternalError(`channel ${this.name}: a message of ${b.length} bytes on ${this.subject} is no frame`));
      return;
    }
    if (frameVersion(b) !== FRAME_VERSION) {
      this.stop(versionError(frameVersion(b), `channel ${this.name}`));
      return;
    }
    const kind = frameKind(b);
    if (kind === FrameKind.Error) {
      this.stop(decodeErrorFrame(b));
      return;
    }
    if (!this.checkSeq(frameSeq(b))) {
      this.stop();
      return;
    }
    switch (kind) {
      case FrameKind.Data:
        this.credit--;
        // Queued as it came, as on NATS links: the union input decodes it when taken, and checks it there.
        this.onBuffer(b, m.info.pending);
        break;
      case FrameKind.EndOfPartition:
        this.done = true;
        this.clearTimer();
        this.fetch?.stop();
        this.onEnd();
        break;
      default:
        this.stop(new InternalError(`channel ${this.name}: unknown frame kind ${kind}`));
    }
  }

  /** Ends reading; with `err`, fails the input. */
  private stop(err?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    this.fetch?.stop();
    this.wakeUp();
    if (err !== undefined) this.onError(err);
  }

  private waitForCredit(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Fails with PartitionNotFound if no frame arrives in time and the producer is not running any more. */
  private armDeadline(): void {
    const t = this.store.cfg.partitionRequestTimeoutMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.seen || this.done) return;
      const { nc, subjects, cfg } = this.store;
      nc.request(subjects.credit(this.desc.producerAttemptId), encodePing(), { timeout: cfg.requestAttemptTimeoutMs }).then(
        () => {
          if (!this.seen && !this.done) this.armDeadline();
        },
        () => {
          if (!this.seen)
            this.stop(
              partitionNotFound(this, `no stream ${this.stream} or nothing written to ${this.subject} within ${t} ms, and its producer is not running`),
            );
        },
      );
    }, t);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Deletes the ephemeral consumer (best effort; the server drops it anyway once inactive). */
  private dropConsumer(): void {
    const name = this.consumerName;
    this.consumer = null;
    this.consumerName = null;
    if (name === null || this.store.nc.isClosed()) return;
    this.store
      .manager()
      .then((jsm) => jsm.consumers.delete(this.stream, name))
      .catch(() => undefined); // best effort: the consumer's inactivity threshold removes it anyway
  }

  private cleanup(): void {
    this.clearTimer();
    this.parked.length = 0;
    this.dropConsumer();
  }
}
