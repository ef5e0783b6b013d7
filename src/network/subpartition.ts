/**
 * ResultSubpartition: the records a producer subtask sends to one consumer subtask. Records are
 * collected into buffers (plain arrays, with the watermarks between them beside); a finished buffer
 * waits in a bounded backlog until its reader (the consumer's link) has credit for it. Events
 * (checkpoint barriers, cancel markers) finish the buffer before them and wait in the same queue,
 * behind the buffers before them, and are sent without credit once they reach its head.
 *
 * A link that encodes gets each buffer encoded when it is finished, not when it is sent: a backlog of
 * frames is a few objects, where a backlog of record arrays is thousands of objects that outlive
 * young-generation collections (each copied, then promoted and collected again as old objects).
 */
import { EddyError, ErrorCode, NotFoundError } from "../core/errors.js";
import type { NetworkConfig } from "./config.js";
import type { NetworkEvent, WatermarkMarks } from "../core/stream-events.js";
import { splitMarks } from "../core/watermark-marks.js";
import { RecordBatch } from "../core/record-batch.js";
import { decodeRecords, decodeWatermarks, encodeDataFrame, MAX_FRAME_WATERMARKS } from "./frame.js";

/** A finished buffer as records (same-thread links, or queued before a link that encodes attached). */
export class RecordBuffer {
  constructor(
    readonly records: unknown[],
    /** The watermarks between the records, if any. */
    readonly marks: WatermarkMarks | undefined,
  ) {}
}

/** A finished buffer already encoded as a DATA frame, whose header is written when it is sent. */
export class EncodedBuffer {
  constructor(
    readonly frame: Uint8Array,
    readonly records: number,
  ) {}
}

/**
 * The producer side of one link to a consumer channel (same thread, other thread or NATS).
 * Called only when the reader has credit (data) or at any time (end, error).
 */
export interface SubpartitionReader {
  /** True when buffers should aim at `targetBufferBytes` once encoded (links that encode: NATS, other threads). */
  readonly adaptive: boolean;
  /**
   * Sends one buffer, telling the consumer how many more are queued (`backlog`). Returns its encoded
   * size (0 when not encoded), or minus its encoded size when it is larger than one frame may be
   * (nothing was sent; the subpartition splits it).
   */
  sendData(buffer: RecordBuffer, seq: number, backlog: number): number;
  /**
   * Sends a buffer encoded ahead (a DATA frame whose header it writes), as {@link sendData} does;
   * minus its size when this link's frames must be smaller.
   */
  sendFrame(frame: Uint8Array, seq: number, backlog: number): number;
  /** Largest frame this link carries (links that do not encode: unbounded). */
  readonly maxFrameBytes: number;
  /** Sends END_OF_PARTITION (no credit needed). */
  sendEnd(seq: number): void;
  /** Tells the consumer the partition failed or was released (no credit needed). */
  sendError(err: EddyError, seq: number): void;
  /** Sends a checkpoint barrier or cancel marker (no credit needed; every earlier buffer was sent). */
  sendEvent(event: NetworkEvent, seq: number): void;
  /** Releases the link's resources (ports); called once the subpartition is done with it. */
  close(): void;
}

/** What a subpartition reports to its writer (the task's RecordOutput). */
export interface SubpartitionOwner {
  readonly cfg: NetworkConfig;
  /**
   * A buffer got its first record: the owner finishes it within the buffer timeout (at once with a
   * timeout of 0). Called once per buffer, so an idle producer keeps no timer running.
   */
  onBufferStarted(): void;
  /** A backlog reached (true) or left (false) its bound. */
  onFull(full: boolean): void;
  onBuffer(backlog: number): void;
  onSent(records: number, bytes: number): void;
  onEndSent(): void;
  /** An event was handed to the link. */
  onEventSent(): void;
  /** Records a failure; returns it so the caller can throw it. */
  fail(err: unknown): Error;
}

/** One subpartition of a {@link ResultPartition}. */
export class ResultSubpartition {
  /** The buffer being filled. */
  private readonly cur = new RecordBatch();
  /** The watermarks of the buffer being filled, at their places between its records. */
  private marks: WatermarkMarks | undefined = undefined;
  /** Records per buffer (adapted to the encoded size on remote links). */
  target: number;
  /** Finished buffers and events, in order. */
  private readonly queue: Array<RecordBuffer | EncodedBuffer | NetworkEvent> = [];
  /** Events in {@link queue}. */
  private events = 0;
  private reader: SubpartitionReader | null = null;
  private credit = 0;
  private seq = 0;
  private full = false;
  private ending = false;
  private ended = false;
  private released = false;
  private draining = false;
  private bytesPerRecord = 0;
  /** Records handed to the reader so far (counted per buffer). */
  recordsSent = 0;

  constructor(
    readonly index: number,
    readonly name: string,
    private readonly owner: SubpartitionOwner,
    private readonly bufferRecords: number,
  ) {
    this.target = bufferRecords;
  }

  /** Appends a record to the current buffer (hot path). */
  add(record: unknown): void {
    const n = this.cur.add(record, this.target);
    if (n >= this.target) this.finishBuffer();
    else if (n === 1 && this.marks === undefined) this.owner.onBufferStarted();
  }

  /**
   * Puts watermark `w` into the current buffer after its records so far; it goes out with them and does
   * not finish the buffer (unless the buffer holds as many watermarks as a frame may). Ignored once
   * released or ending.
   */
  addWatermark(w: number): void {
    if (this.released || this.ending) return;
    let m = this.marks;
    if (m === undefined) {
      m = this.marks = [];
      if (this.cur.length === 0) this.owner.onBufferStarted();
    }
    if (m.push(this.cur.length, w) >= 2 * MAX_FRAME_WATERMARKS) this.finishBuffer();
  }

  /** Finished buffers waiting for credit. */
  get backlog(): number {
    return this.queue.length - this.events;
  }

  /** Events (barriers, cancel markers) not yet handed to a link. */
  get queuedEvents(): number {
    return this.events;
  }

  /** True when a consumer link is attached. */
  get hasReader(): boolean {
    return this.reader !== null;
  }

  /** True once END_OF_PARTITION was sent. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Moves the current buffer, if it holds records or watermarks, to the backlog and sends what credit allows. */
  finishBuffer(): void {
    if ((this.cur.length === 0 && this.marks === undefined) || this.released) return;
    const records = this.cur.take();
    const marks = this.marks;
    this.marks = undefined;
    const r = this.reader;
    if (r?.adaptive) this.queueEncoded(records, marks, r.maxFrameBytes);
    else this.queue.push(new RecordBuffer(records, marks));
    this.owner.onBuffer(this.queue.length - this.events);
    this.updateFull();
    if (this.credit > 0) this.drain();
  }

  /**
   * Flushes, then queues `event` behind every buffer so far; it goes out, without credit, as soon as
   * they are sent (so also to a consumer that attaches later). Ignored once released or ending.
   */
  addEvent(event: NetworkEvent): void {
    if (this.released || this.ending) return;
    this.finishBuffer();
    if (this.released) return;
    this.queue.push(event);
    this.events++;
    if (this.reader !== null) this.drain();
  }

  /** Flushes and queues END_OF_PARTITION after the last buffer. */
  end(): void {
    this.finishBuffer();
    this.ending = true;
    this.drain();
  }

  /** Attaches the consumer's link with its initial credit. Throws when another link is attached. */
  attach(reader: SubpartitionReader, credit: number): void {
    if (this.released) {
      reader.sendError(new EddyError(ErrorCode.TaskFailed, `subpartition ${this.name} was released by its producer`), 0);
      return;
    }
    if (this.reader !== null || this.ended) {
      reader.sendError(new NotFoundError(ErrorCode.PartitionNotFound, `subpartition ${this.name} is already consumed by another channel`), 0);
      return;
    }
    this.reader = reader;
    this.credit = credit;
    this.seq = 0;
    this.guarded();
  }

  /** Detaches `reader` (the consumer went away); queued buffers stay for a later reader. */
  detach(reader: SubpartitionReader): void {
    if (this.reader !== reader) return;
    this.reader = null;
    this.credit = 0;
  }

  /** The consumer recycled `n` buffers. Never throws (a failure goes to the owner). */
  addCredit(n: number): void {
    this.credit += n;
    this.guarded();
  }

  /** Drops everything; an attached reader that has not seen the end is told `err`. */
  release(err: EddyError): void {
    if (this.released) return;
    this.released = true;
    this.queue.length = 0;
    this.events = 0;
    this.cur.clear();
    this.marks = undefined;
    this.updateFull();
    const r = this.reader;
    this.reader = null;
    if (r !== null) {
      try {
        if (!this.ended) r.sendError(err, this.seq);
      } catch {
        // the link is gone already
      }
      r.close();
    }
  }

  private guarded(): void {
    try {
      this.drain();
    } catch (err) {
      this.owner.fail(err);
    }
  }

  private updateFull(): void {
    const full = this.queue.length - this.events >= this.owner.cfg.maxBacklogBuffers;
    if (full !== this.full) {
      this.full = full;
      this.owner.onFull(full);
    }
  }

  /** Sends buffers while there is credit (events need none), then END_OF_PARTITION when asked for and all is sent. */
  private drain(): void {
    const r = this.reader;
    if (r === null || this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const buf = this.queue[0]!;
        if (buf instanceof EncodedBuffer) {
          if (this.credit <= 0) break;
          const bytes = r.sendFrame(buf.frame, this.seq, this.queue.length - 1 - this.events);
          if (bytes < 0) {
            // Encoded for a link that carried larger frames than this one (a consumer that moved).
            this.queue[0] = new RecordBuffer(decodeRecords(buf.frame), decodeWatermarks(buf.frame));
            continue;
          }
          this.sent(buf.records, bytes);
          continue;
        }
        if (!(buf instanceof RecordBuffer)) {
          this.queue.shift();
          this.events--;
          r.sendEvent(buf, this.seq);
          this.seq = (this.seq + 1) >>> 0;
          this.owner.onEventSent();
          continue;
        }
        if (this.credit <= 0) break;
        const bytes = r.sendData(buf, this.seq, this.queue.length - 1 - this.events);
        if (bytes < 0) {
          this.split(buf, -bytes);
          continue;
        }
        this.sent(buf.records.length, bytes);
        if (bytes > 0 && r.adaptive) this.adapt(buf.records.length, bytes);
      }
      if (this.ending && !this.ended && this.queue.length === 0) {
        this.ended = true;
        r.sendEnd(this.seq);
        this.seq = (this.seq + 1) >>> 0;
        this.owner.onEndSent();
      }
    } finally {
      this.draining = false;
    }
  }

  /** The queue's head buffer of `records` went out as `bytes`. */
  private sent(records: number, bytes: number): void {
    this.queue.shift();
    this.seq = (this.seq + 1) >>> 0;
    this.credit--;
    this.recordsSent += records;
    this.owner.onSent(records, bytes);
    if (this.full) this.updateFull();
  }

  /**
   * Queues `records` and their watermarks as frames of at most `maxFrameBytes`, halving them as often
   * as needed (each watermark stays between the same records).
   */
  private queueEncoded(records: unknown[], marks: WatermarkMarks | undefined, maxFrameBytes: number): void {
    const frame = encodeDataFrame(0, 0, records, 0, marks);
    if (frame.length <= maxFrameBytes) {
      this.queue.push(new EncodedBuffer(frame, records.length));
      this.adapt(records.length, frame.length);
      return;
    }
    if (records.length <= 1) throw this.tooLarge(frame.length);
    const half = records.length >>> 1;
    const [first, rest] = splitMarks(marks, half);
    this.queueEncoded(records.slice(0, half), first, maxFrameBytes);
    this.queueEncoded(records.slice(half), rest, maxFrameBytes);
    if (this.target > half) this.target = Math.max(1, half);
  }

  private tooLarge(bytes: number): Error {
    return this.owner.fail(
      new EddyError(
        ErrorCode.RecordTooLarge,
        `a record of subpartition ${this.name} encodes to ${bytes} bytes, more than the ${this.owner.cfg.maxFrameBytes} bytes one network frame may carry (NATS max_payload is 1 MB); emit smaller records`,
        { details: { bytes, maxFrameBytes: this.owner.cfg.maxFrameBytes } },
      ),
    );
  }

  private split(buf: RecordBuffer, bytes: number): void {
    const records = buf.records;
    if (records.length <= 1) throw this.tooLarge(bytes);
    const half = records.length >>> 1;
    const [first, rest] = splitMarks(buf.marks, half);
    this.queue.splice(0, 1, new RecordBuffer(records.slice(0, half), first), new RecordBuffer(records.slice(half), rest));
    this.updateFull();
    if (this.target > half) this.target = Math.max(1, half);
  }

  /** Aims the record target at `targetBufferBytes` from the measured bytes per record. */
  private adapt(records: number, bytes: number): void {
    if (records === 0) return; // watermarks only
    const bpr = bytes / records;
    this.bytesPerRecord = this.bytesPerRecord === 0 ? bpr : (this.bytesPerRecord + bpr) / 2;
    const t = Math.floor(this.owner.cfg.targetBufferBytes / this.bytesPerRecord);
    this.target = t < 1 ? 1 : Math.min(t, this.bufferRecords);
  }
}
