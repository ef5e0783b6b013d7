/**
 * The cross-thread link (same TaskExecutor, other slot): encoded frames (see frame.ts) travel over a
 * MessagePort made by the {@link LocalExchangeBroker}, their ArrayBuffer transferred, not cloned.
 * Consumer → producer on the port: first the request `{r, p, s, c}`, then credits as plain numbers.
 */
import type { MessagePort } from "node:worker_threads";
import { EddyError, ErrorCode } from "../core/errors.js";
import type { NetworkConfig } from "./config.js";
import { encodeEventFrame, encodeDataFrame, encodeEndFrame, encodeErrorFrame, stampDataFrame } from "./frame.js";
import type { NetworkEvent } from "../core/stream-events.js";
import { InputChannel, partitionNotFound, type ChannelPosition } from "./input-channel.js";
import type { UnionInput } from "./union-input.js";
import type { LocalExchangeClient, PendingConnect } from "./local-exchange.js";
import type { RecordWriterOutput } from "./record-writer.js";
import type { RecordBuffer, SubpartitionReader } from "./subpartition.js";

/** The first message a consumer posts on a new port. */
interface PortRequest {
  r: string;
  p: number;
  s: number;
  c: number;
}

function post(port: MessagePort, frame: Uint8Array): void {
  const ab = new ArrayBuffer(frame.length);
  new Uint8Array(ab).set(frame);
  port.postMessage(ab, [ab]);
}

/** Producer side of a cross-thread link; its buffers aim at `targetBufferBytes` like NATS links (the frames are copied once more when posted). */
class PortReader implements SubpartitionReader {
  readonly adaptive = true;
  constructor(
    private readonly port: MessagePort,
    readonly maxFrameBytes: number,
  ) {}
  sendData(buffer: RecordBuffer, seq: number, backlog: number): number {
    return this.sendFrame(encodeDataFrame(0, seq, buffer.records, backlog, buffer.marks), seq, backlog);
  }
  sendFrame(frame: Uint8Array, seq: number, backlog: number): number {
    if (frame.length > this.maxFrameBytes) return -frame.length;
    stampDataFrame(frame, 0, seq, backlog);
    post(this.port, frame);
    return frame.length;
  }
  sendEnd(seq: number): void {
    post(this.port, encodeEndFrame(0, seq));
  }
  sendError(err: EddyError, seq: number): void {
    post(this.port, encodeErrorFrame(0, seq, err));
  }
  sendEvent(event: NetworkEvent, seq: number): void {
    post(this.port, encodeEventFrame(0, seq, event));
  }
  close(): void {
    this.port.close();
  }
}

/** Serves one consumer port that the broker handed to producer `writer`. */
export function acceptPort(port: MessagePort, writer: RecordWriterOutput, cfg: NetworkConfig): void {
  port.once("message", (req: PortRequest) => {
    const reader = new PortReader(port, cfg.maxFrameBytes);
    const sub = writer.findPartition(req.r, req.p)?.subpartitions[req.s];
    if (!sub) {
      reader.sendError(new EddyError(ErrorCode.PartitionNotFound, `producer ${writer.attemptId} has no partition ${req.r}#${req.p}.${req.s}`), 0);
      return;
    }
    port.on("message", (n: number) => sub.addCredit(n));
    port.on("close", () => sub.detach(reader));
    sub.attach(reader, req.c);
  });
}

/** Consumer side of a cross-thread link. */
export class PortInputChannel extends InputChannel {
  private port: MessagePort | null = null;
  private pending: PendingConnect | null = null;

  constructor(
    input: UnionInput,
    pos: ChannelPosition,
    private readonly client: LocalExchangeClient,
    private readonly cfg: NetworkConfig,
  ) {
    super(input, pos);
  }

  start(): void {
    const pending = this.client.connect(this.desc.producerAttemptId, this.cfg.partitionRequestTimeoutMs);
    this.pending = pending;
    pending.promise.then(
      (port) => {
        this.pending = null;
        if (this.released) {
          port.close();
          return;
        }
        this.port = port;
        port.on("message", (ab: ArrayBuffer) => this.onFrame(new Uint8Array(ab)));
        port.on("close", () => {
          if (!this.ended && !this.released)
            this.onError(new EddyError(ErrorCode.TaskFailed, `producer of ${this.name} closed the channel before the end of the partition`));
        });
        port.postMessage({ r: this.resultId, p: this.desc.partitionIndex, s: this.desc.subpartitionIndex, c: this.initialCredit } satisfies PortRequest);
      },
      (err: unknown) => {
        this.pending = null;
        this.onError(partitionNotFound(this, (err as Error).message));
      },
    );
  }

  protected override afterEndFrame(): void {
    this.closePort();
  }

  protected sendCredit(n: number): void {
    this.port?.postMessage(n);
  }

  protected releaseLink(): void {
    this.pending?.cancel();
    this.pending = null;
    this.closePort();
  }

  private closePort(): void {
    const p = this.port;
    this.port = null;
    p?.close();
  }
}
