/** The same-thread link: buffers (record arrays and their watermarks) are handed from producer to consumer, never encoded. */
import type { EddyError } from "../core/errors.js";
import type { NetworkConfig } from "./config.js";
import { InputChannel, partitionNotFound, type ChannelPosition } from "./input-channel.js";
import type { UnionInput } from "./union-input.js";
import type { RecordWriterOutput } from "./record-writer.js";
import type { RecordBuffer, ResultSubpartition, SubpartitionReader } from "./subpartition.js";
import type { NetworkEvent } from "../core/stream-events.js";

/** The producers of one thread, by attempt id; consumers may wait for one to appear. */
export class ProducerRegistry {
  private readonly producers = new Map<string, RecordWriterOutput>();
  private readonly waiters = new Map<string, Set<(w: RecordWriterOutput) => void>>();

  register(w: RecordWriterOutput): void {
    this.producers.set(w.attemptId, w);
    const ws = this.waiters.get(w.attemptId);
    if (ws) {
      this.waiters.delete(w.attemptId);
      for (const cb of ws) cb(w);
    }
  }

  unregister(attemptId: string): void {
    this.producers.delete(attemptId);
  }

  get(attemptId: string): RecordWriterOutput | undefined {
    return this.producers.get(attemptId);
  }

  /** Calls `cb` with the producer once registered, or with null after `timeoutMs`. Returns a cancel function. */
  await(attemptId: string, timeoutMs: number, cb: (w: RecordWriterOutput | null) => void): () => void {
    const w = this.producers.get(attemptId);
    if (w) {
      cb(w);
      return () => undefined;
    }
    let set = this.waiters.get(attemptId);
    if (!set) this.waiters.set(attemptId, (set = new Set()));
    const entry = (p: RecordWriterOutput) => {
      clearTimeout(timer);
      cb(p);
    };
    const cancel = () => {
      clearTimeout(timer);
      const s = this.waiters.get(attemptId);
      s?.delete(entry);
      if (s?.size === 0) this.waiters.delete(attemptId);
    };
    const timer = setTimeout(() => {
      cancel();
      cb(null);
    }, timeoutMs);
    set.add(entry);
    return cancel;
  }
}

/** Producer side of a same-thread link: delivers arrays straight into the consumer channel. */
class LocalReader implements SubpartitionReader {
  readonly adaptive = false;
  readonly maxFrameBytes = Number.POSITIVE_INFINITY;
  constructor(private readonly ch: LocalInputChannel) {}
  sendData(buffer: RecordBuffer, seq: number, backlog: number): number {
    void seq;
    this.ch.onBuffer(buffer, backlog);
    return 0;
  }
  /** A buffer encoded for an earlier link of another thread or process: the channel decodes it when taken. */
  sendFrame(frame: Uint8Array, seq: number, backlog: number): number {
    void seq;
    this.ch.onBuffer(frame, backlog);
    return 0;
  }
  sendEnd(): void {
    this.ch.onEnd();
  }
  sendError(err: EddyError): void {
    this.ch.onError(err);
  }
  sendEvent(event: NetworkEvent): void {
    this.ch.onEvent(event);
  }
  close(): void {}
}

/** Consumer side of a same-thread link. */
export class LocalInputChannel extends InputChannel {
  private sub: ResultSubpartition | null = null;
  private readonly reader = new LocalReader(this);
  private cancelWait: (() => void) | null = null;

  constructor(
    input: UnionInput,
    pos: ChannelPosition,
    private readonly registry: ProducerRegistry,
    private readonly cfg: NetworkConfig,
  ) {
    super(input, pos);
  }

  start(): void {
    this.cancelWait = this.registry.await(this.desc.producerAttemptId, this.cfg.partitionRequestTimeoutMs, (w) => {
      this.cancelWait = null;
      if (this.released) return;
      if (w === null) {
        this.onError(partitionNotFound(this, `producer did not register within ${this.cfg.partitionRequestTimeoutMs} ms`));
        return;
      }
      const sub = w.findPartition(this.resultId, this.desc.partitionIndex)?.subpartitions[this.desc.subpartitionIndex];
      if (!sub) {
        this.onError(partitionNotFound(this, "the producer has no such partition or subpartition"));
        return;
      }
      this.sub = sub;
      sub.attach(this.reader, this.initialCredit);
    });
  }

  protected sendCredit(n: number): void {
    this.sub?.addCredit(n);
  }

  protected releaseLink(): void {
    this.cancelWait?.();
    this.cancelWait = null;
    this.sub?.detach(this.reader);
    this.sub = null;
  }
}
