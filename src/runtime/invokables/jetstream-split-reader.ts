/**
 * Reads one split of `source.jetstream`: an ephemeral pull consumer of its own (no acks, in memory,
 * one replica, deleted when done or idle) from the split's next sequence, whose messages arrive in
 * a synchronous callback and wait in a buffer for the source's loop. The buffer is bounded: at
 * {@link HIGH_WATER} messages the consumer is stopped and deleted, and a new one resumes after the
 * last buffered message once the source took them. A gap in the consumer's delivery sequence (a
 * message lost on the way) or a consumer that vanished (a server restart) also starts a new one there,
 * as nats.js's ordered consumers do; a stream that vanished fails the split.
 *
 * Positions live in Eddy's checkpoints, never in the server: nothing here is durable.
 */
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { EddyError, ErrorCode } from "../../core/errors.js";
import { isStreamNotFound } from "../../jetstream/index.js";
import type { JetStreamSplit } from "./jetstream-splits.js";

/** Messages one pull asks for. */
export const PULL_BATCH = 1024;
/** Buffered messages at which the consumer pauses until the source took them. */
export const HIGH_WATER = 8 * PULL_BATCH;
/** How long a pull waits on the server (ms); heartbeats tell a dead pull within it. */
const PULL_EXPIRES_MS = 5_000;
/** A consumer nobody pulls from for this long is removed by the server. */
const CONSUMER_INACTIVE_MS = 30_000;
/** Consecutive failed (re)starts before the split fails. */
const MAX_FAILURES = 8;

/** A split being read. */
export class SplitReader {
  private buf: JsMsg[] = [];
  /** The next sequence a new consumer starts at (after the last buffered message). */
  private fetchNext: number;
  private messages: ConsumerMessages | null = null;
  private consumerName: string | null = null;
  /** Increments with every consumer: callbacks of an older one are ignored. */
  private generation = 0;
  private lastDelivery = 0;
  private paused = false;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The stream's last message at or beyond the split's end was buffered: no consumer is needed. */
  private ended = false;
  /** Set when the split cannot be read any more; the source fails the task with it. */
  failure: Error | undefined;
  /** When the last message arrived (ms, Date.now()). */
  lastDataAt = Date.now();

  constructor(
    readonly split: JetStreamSplit,
    private readonly stream: string,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly onData: () => void,
  ) {
    this.fetchNext = split.next;
  }

  /** Starts reading. */
  start(): void {
    this.restart();
  }

  /** True when messages wait. */
  get ready(): boolean {
    return this.buf.length > 0;
  }

  /** The buffered messages, oldest first; reading resumes if it paused for them. */
  take(): JsMsg[] {
    const out = this.buf;
    this.buf = [];
    if (this.paused && !this.closed) {
      this.paused = false;
      this.restart();
    }
    return out;
  }

  /** Stops reading and deletes the consumer (best effort: the server drops an idle one by itself). */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.stopConsumer();
  }

  private stopConsumer(): void {
    this.generation++;
    this.messages?.stop();
    this.messages = null;
    const name = this.consumerName;
    this.consumerName = null;
    if (name) this.jsm.consumers.delete(this.stream, name).catch(() => undefined);
  }

  /** A new consumer from {@link fetchNext} (the previous one, if any, stopped). */
  private restart(): void {
    this.stopConsumer();
    if (this.closed || this.ended) return;
    const gen = this.generation;
    this.consume(gen).catch((err: unknown) => {
      if (gen !== this.generation || this.closed) return;
      this.fail(err);
    });
  }

  private async consume(gen: number): Promise<void> {
    const filter = this.split.filter;
    const ci = await this.jsm.consumers.add(this.stream, {
      ...(filter !== undefined ? { filter_subject: filter } : {}),
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, this.fetchNext),
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: CONSUMER_INACTIVE_MS * 1_000_000,
    });
    if (gen !== this.generation || this.closed) {
      this.jsm.consumers.delete(this.stream, ci.name).catch(() => undefined);
      return;
    }
    this.consumerName = ci.name;
    this.lastDelivery = 0;
    const consumer = this.js.consumers.getConsumerFromInfo(ci);
    const messages = await consumer.consume({
      max_messages: PULL_BATCH,
      expires: PULL_EXPIRES_MS,
      abort_on_missing_resource: true,
      callback: (m) => this.onMessage(m, gen),
    });
    if (gen !== this.generation) {
      messages.stop();
      return;
    }
    this.messages = messages;
    const err = await messages.closed();
    if (gen !== this.generation || this.closed) return;
    // Closed by the server's side (the consumer or the stream went away): start again, or fail.
    if (err) await this.recover(err);
    else this.restart();
  }

  private onMessage(m: JsMsg, gen: number): void {
    if (gen !== this.generation) return;
    const info = m.info;
    if (info.deliverySequence !== this.lastDelivery + 1) {
      // A message lost on the way: a new consumer resumes after the last one buffered.
      this.restart();
      return;
    }
    this.lastDelivery = info.deliverySequence;
    this.fetchNext = info.streamSequence + 1;
    this.failures = 0;
    this.buf.push(m);
    this.lastDataAt = Date.now();
    const end = this.split.end;
    if (end !== undefined && info.streamSequence >= end) {
      this.ended = true;
      this.stopConsumer();
    } else if (this.buf.length >= HIGH_WATER) {
      this.paused = true;
      this.stopConsumer();
    }
    this.onData();
  }

  /** After a consumer failed: a vanished stream fails the split; anything else starts a new consumer. */
  private async recover(err: unknown): Promise<void> {
    const gone = await this.jsm.streams.info(this.stream).then(
      () => false,
      (e: unknown) => isStreamNotFound(e),
    );
    if (gone || isStreamNotFound(err)) {
      this.failure = streamVanished(this.stream, err);
      this.onData();
      return;
    }
    this.fail(err);
  }

  private fail(err: unknown): void {
    if (isStreamNotFound(err)) {
      this.failure = streamVanished(this.stream, err);
      this.onData();
      return;
    }
    if (++this.failures >= MAX_FAILURES) {
      this.failure = new EddyError(
        ErrorCode.TaskFailed,
        `source.jetstream: reading the stream ${this.stream} failed ${this.failures} times: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
      this.onData();
      return;
    }
    const gen = this.generation;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(
      () => {
        if (gen === this.generation && !this.closed) this.restart();
      },
      50 * 2 ** this.failures,
    );
  }
}

/** The error of a stream that no longer exists. */
export function streamVanished(stream: string, cause?: unknown): EddyError {
  return new EddyError(ErrorCode.TaskFailed, `source.jetstream: the stream ${stream} does not exist (deleted while the job reads it?)`, { cause });
}
