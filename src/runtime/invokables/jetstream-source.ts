/**
 * `source.jetstream`: the messages of a JetStream stream, each message's decoded payload one record,
 * in stream order per split (Flink's KafkaSource, for NATS). The splits (jetstream-splits.ts) are
 * the stream's subject partitions, sequence ranges up to `endSeq`, or the whole stream; each is read
 * by an ephemeral consumer of its own (jetstream-split-reader.ts). The splits and their next
 * sequences are union operator state, so a restore rewinds exactly and a restore at another
 * parallelism shares the splits anew; with the JetStream sink, every message reaches the committed
 * output exactly once. Nothing is kept in the server: a worker needs no right to create durable
 * consumers or streams.
 *
 * Bounded with `endSeq` (waits for it to arrive) or `bounded: true` (the stream's last sequence when
 * a split is first opened, then kept in state); unbounded otherwise. Watermarks follow the message
 * timestamps, per split: the minimum over the splits that have messages to read; a caught-up split
 * (idle) does not hold it back, it stands at the stream's last timestamp.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg, type MsgRequest } from "@nats-io/jetstream";
import { unpackData } from "../../codec/codec.js";
import { EddyError, ErrorCode, InternalError } from "../../core/errors.js";
import { isStreamNotFound } from "../../jetstream/index.js";
import type { ListState } from "../../state/api.js";
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import { SourcePacer, configError, intSetting, recordCounters, stringSetting } from "../invokable-common.js";
import { defineInvokable } from "../define-invokable.js";
import { assignSplits, initialSplits, isSplitDone, partitionFilters, type JetStreamSplit } from "./jetstream-splits.js";
import { SplitReader, streamVanished } from "./jetstream-split-reader.js";

const NAME = "source.jetstream";
const MAX = Number.MAX_SAFE_INTEGER;
/** How long the loop waits for messages before it yields (where checkpoints are taken) and looks at idle splits. */
const IDLE_TICK_MS = 50;
/** A split without messages for this long is checked: has it reached its end, is it caught up (idle)? */
const IDLE_CHECK_MS = 200;

/** The payload formats. */
export const JETSTREAM_FORMATS = ["json", "msgpack", "string", "bytes"] as const;
export type JetStreamFormat = (typeof JETSTREAM_FORMATS)[number];

/** Settings of `source.jetstream`. */
export interface JetStreamSourceConfig {
  stream: string;
  filterSubject?: string;
  /** Default "json". */
  format?: JetStreamFormat;
  /** First stream sequence to read (default 1). */
  startSeq?: number;
  /** Last stream sequence to read (inclusive); the source waits for it, then ends. */
  endSeq?: number;
  /** Without `endSeq`: true reads up to the stream's last sequence at the start, then ends. */
  bounded?: boolean;
}

interface Settings {
  stream: string;
  filterSubject: string | undefined;
  format: JetStreamFormat;
  startSeq: number;
  endSeq: number | undefined;
  bounded: boolean;
}

/** A NATS stream name: no whitespace, `.`, `*`, `>`, or path separators. */
const STREAM_NAME = /^[^\s.*>/\\]{1,255}$/;

/** True when `s` is a subject filter: non-empty tokens, no whitespace, `>` only as the last token. */
export function isSubjectFilter(s: string): boolean {
  if (s.length === 0 || s.length > 4096 || /\s/.test(s)) return false;
  const tokens = s.split(".");
  return tokens.every((t, i) => t.length > 0 && (t !== ">" || i === tokens.length - 1) && (t.length === 1 || !/[*>]/.test(t)));
}

/** Reads and checks the config of `source.jetstream`. */
export function jetStreamSourceSettings(config: Record<string, unknown>, vertexId: string): Settings {
  if (config.stream === undefined) configError(NAME, vertexId, "config.stream is required (the name of the stream to read)");
  const stream = stringSetting(config, "stream", NAME, vertexId);
  if (!STREAM_NAME.test(stream))
    configError(NAME, vertexId, `config.stream ${JSON.stringify(stream)} is no stream name (no whitespace, ".", "*", ">", "/" or "\\")`);
  let filterSubject: string | undefined;
  if (config.filterSubject !== undefined) {
    filterSubject = stringSetting(config, "filterSubject", NAME, vertexId);
    if (!isSubjectFilter(filterSubject)) configError(NAME, vertexId, `config.filterSubject ${JSON.stringify(filterSubject)} is no subject filter`);
  }
  const format = config.format === undefined ? "json" : config.format;
  if (typeof format !== "string" || !(JETSTREAM_FORMATS as readonly string[]).includes(format))
    configError(NAME, vertexId, `config.format must be one of ${JETSTREAM_FORMATS.join(", ")}, got ${JSON.stringify(format) ?? String(format)}`);
  const startSeq = intSetting(config, "startSeq", { min: 1, max: MAX, dflt: 1 }, NAME, vertexId);
  const endSeq = config.endSeq === undefined ? undefined : intSetting(config, "endSeq", { min: 1, max: MAX }, NAME, vertexId);
  if (endSeq !== undefined && endSeq < startSeq) configError(NAME, vertexId, `config.endSeq (${endSeq}) must not be before config.startSeq (${startSeq})`);
  const bounded = config.bounded;
  if (bounded !== undefined && typeof bounded !== "boolean") configError(NAME, vertexId, "config.bounded must be true or false");
  if (bounded === false && endSeq !== undefined) configError(NAME, vertexId, "config.bounded is false but config.endSeq bounds the read; drop one");
  return { stream, filterSubject, format: format as JetStreamFormat, startSeq, endSeq, bounded: bounded === true || endSeq !== undefined };
}

/** The decoder of a payload format; throws on a payload that is not in it. */
export function payloadDecoder(format: JetStreamFormat): (data: Uint8Array) => unknown {
  const text = new TextDecoder("utf-8");
  switch (format) {
    case "json":
      return (d) => JSON.parse(text.decode(d));
    case "msgpack":
      return unpackData;
    case "string":
      return (d) => text.decode(d);
    case "bytes":
      return (d) => d;
  }
}

class JetStreamSource implements Invokable {
  private splitState: ListState<JetStreamSplit> | undefined;
  private splits: JetStreamSplit[] = [];
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  private readonly decode: (data: Uint8Array) => unknown;
  /** The watermark last emitted. */
  private watermark = Number.NEGATIVE_INFINITY;

  constructor(private readonly s: Settings) {
    this.decode = payloadDecoder(s.format);
  }

  async restore(ctx: TaskContext): Promise<void> {
    if (!ctx.nats) throw new InternalError(`${NAME} needs the worker's NATS connection`);
    this.js = jetstream(ctx.nats);
    this.jsm = await jetstreamManager(ctx.nats);
    const { parallelism, subtaskIndex } = ctx.tdd;
    this.splitState = ctx.operatorState.getUnionListState<JetStreamSplit>("splits");
    const restored = this.splitState.get();
    const info = await this.streamInfo();
    const all =
      restored.length > 0
        ? restored
        : initialSplits({
            startSeq: this.s.startSeq,
            ...(this.s.endSeq !== undefined ? { endSeq: this.s.endSeq } : {}),
            ...(this.s.filterSubject !== undefined ? { filterSubject: this.s.filterSubject } : {}),
            partitions: streamPartitions(info.config),
            parallelism,
          });
    this.splits = assignSplits(all, parallelism, subtaskIndex);
    // `bounded: true`: a split's end is the stream's last sequence when it is first opened; kept in state from then on.
    if (this.s.bounded) for (const sp of this.splits) if (sp.end === undefined) sp.end = Math.max(sp.next - 1, info.state.last_seq);
    this.splitState.update(this.splits);
  }

  snapshotState(): void {
    this.splitState?.update(this.splits);
  }

  private async streamInfo() {
    try {
      return await this.jsm.streams.info(this.s.stream);
    } catch (err) {
      if (isStreamNotFound(err))
        throw new EddyError(ErrorCode.TaskFailed, `${NAME}: the stream ${this.s.stream} does not exist; create it before the job`, { cause: err });
      throw err;
    }
  }

  async invoke(ctx: TaskContext): Promise<void> {
    if (!this.splitState) await this.restore(ctx);
    const out = ctx.output;
    const emitted = recordCounters(ctx).out;
    const pacer = new SourcePacer(ctx);
    let wake: (() => void) | undefined;
    const onData = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    let readers = this.splits.filter((sp) => !isSplitDone(sp)).map((sp) => new SplitReader(sp, this.s.stream, this.js, this.jsm, onData));
    const idle = new IdleTracker();
    try {
      for (const r of readers) r.start();
      // Unbounded, a subtask without splits stays (it gets splits at a restore at another parallelism).
      const follows = !this.s.bounded;
      while (readers.length > 0 || follows) {
        let n = 0;
        for (const r of readers) {
          if (r.failure) throw r.failure;
          if (r.ready) {
            n += this.emit(r.take(), r.split, ctx);
            idle.active(r.split);
          }
        }
        if (readers.some((r) => isSplitDone(r.split))) {
          for (const r of readers) if (isSplitDone(r.split)) r.close();
          readers = readers.filter((r) => !isSplitDone(r.split));
        }
        if (n > 0) {
          emitted.add(n);
          this.emitWatermark(ctx, readers, idle);
          await pacer.afterBatch();
        } else {
          await this.waitForData(ctx, readers, (w) => (wake = w));
          wake = undefined;
          await ctx.yield(); // where pending checkpoints are taken
          ctx.signal.throwIfAborted();
        }
        // Also while other splits deliver: a quiet split must not hold the watermark back for long.
        if (idle.due(Date.now()) && (await this.checkIdle(readers, idle))) this.emitWatermark(ctx, readers, idle);
      }
    } finally {
      for (const r of readers) r.close();
    }
    await out.finish();
  }

  /** Emits the records of `msgs` (one split's, in order) up to the split's end; returns how many. */
  private emit(msgs: JsMsg[], split: JetStreamSplit, ctx: TaskContext): number {
    const out = ctx.output;
    const end = split.end ?? MAX;
    const decode = this.decode;
    let ts = split.ts ?? Number.NEGATIVE_INFINITY;
    let n = 0;
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!;
      const info = m.info;
      const seq = info.streamSequence;
      if (seq > end) break;
      let record: unknown;
      try {
        record = decode(m.data);
      } catch (err) {
        throw new EddyError(
          ErrorCode.TaskFailed,
          `${NAME}: message ${seq} of the stream ${this.s.stream} (subject ${m.subject}) is not ${this.s.format}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      out.emit(record);
      n++;
      const t = Math.floor(info.timestampNanos / 1_000_000);
      if (t > ts) ts = t;
    }
    // Everything up to here is emitted: the split's position moves past it (messages after its end are never read).
    const last = msgs[msgs.length - 1];
    if (last) split.next = Math.min(last.info.streamSequence, end === MAX ? last.info.streamSequence : end) + 1;
    if (Number.isFinite(ts)) split.ts = ts;
    return n;
  }

  /** Resolves when a reader has messages (or failed), or after {@link IDLE_TICK_MS}. */
  private waitForData(ctx: TaskContext, readers: SplitReader[], setWake: (w: () => void) => void): Promise<void> {
    if (readers.some((r) => r.ready || r.failure)) return Promise.resolve();
    ctx.output.flush();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, IDLE_TICK_MS);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      setWake(done);
    });
  }

  /**
   * Looks at splits without messages for {@link IDLE_CHECK_MS}: one whose stream reached its end with
   * nothing left for it is done; one with nothing to read is idle, standing at the stream's last
   * timestamp. True when a split became idle or the idle time advanced.
   */
  private async checkIdle(readers: SplitReader[], idle: IdleTracker): Promise<boolean> {
    const now = Date.now();
    idle.lastCheck = now;
    const quiet = readers.filter((r) => !r.ready && now - r.lastDataAt >= IDLE_CHECK_MS);
    if (quiet.length === 0 && readers.length > 0) return false;
    let info: Awaited<ReturnType<JetStreamManager["streams"]["info"]>>;
    try {
      info = await this.jsm.streams.info(this.s.stream);
    } catch (err) {
      if (isStreamNotFound(err)) throw streamVanished(this.s.stream, err);
      return false; // asked again at the next check
    }
    const lastTs = Date.parse(info.state.last_ts);
    let changed = false;
    for (const r of quiet) {
      const sp = r.split;
      // Nothing of the split's at or after its position (asked after the stream's state): caught up.
      const next = await this.nextMessageSeq(sp);
      if (next !== undefined && (sp.end === undefined || next <= sp.end)) continue;
      if (sp.end !== undefined && ((next !== undefined && next > sp.end) || info.state.last_seq >= sp.end)) {
        sp.next = sp.end + 1;
        changed = true;
        continue;
      }
      changed = idle.idle(sp, lastTs) || changed;
    }
    if (readers.length === 0) changed = idle.streamTime(lastTs) || changed;
    return changed;
  }

  /** The sequence of the split's first message at or after its position, or undefined when there is none. */
  private async nextMessageSeq(sp: JetStreamSplit): Promise<number | undefined> {
    try {
      // STREAM.MSG.GET answers "the first message of a subject at or after seq" (nats.js types it for direct gets only).
      const query = { seq: sp.next, next_by_subj: sp.filter ?? ">" } as unknown as MsgRequest;
      const m = await this.jsm.streams.getMessage(this.s.stream, query);
      return m?.seq;
    } catch (err) {
      if (isStreamNotFound(err)) throw streamVanished(this.s.stream, err);
      return undefined;
    }
  }

  /** Emits the subtask's watermark when it advanced: the minimum over its splits, idle ones at the stream's time. */
  private emitWatermark(ctx: TaskContext, readers: SplitReader[], idle: IdleTracker): void {
    let w = Number.POSITIVE_INFINITY;
    for (const r of readers) w = Math.min(w, idle.timeOf(r.split));
    if (readers.length === 0) w = idle.streamTs;
    if (!Number.isFinite(w)) return;
    const wm = w - 1;
    if (wm > this.watermark) {
      this.watermark = wm;
      ctx.output.emitWatermark?.(wm);
    }
  }
}

/** Which splits are idle, and the stream's last timestamp they stand at (Flink's idleness). */
class IdleTracker {
  lastCheck = 0;
  streamTs = Number.NEGATIVE_INFINITY;

  /** True when quiet splits are to be looked at again (every {@link IDLE_CHECK_MS}). */
  due(now: number): boolean {
    return now - this.lastCheck >= IDLE_CHECK_MS;
  }

  private readonly idleAt = new Map<string, number>();

  /** The split had messages. */
  active(sp: JetStreamSplit): void {
    this.idleAt.delete(sp.id);
  }

  /** The split is caught up at stream time `ts`; true when that is new. */
  idle(sp: JetStreamSplit, ts: number): boolean {
    if (!Number.isFinite(ts) || this.idleAt.get(sp.id) === ts) return false;
    this.idleAt.set(sp.id, ts);
    return true;
  }

  /** A subtask without splits stands at stream time `ts`; true when it advanced. */
  streamTime(ts: number): boolean {
    if (!(ts > this.streamTs)) return false;
    this.streamTs = ts;
    return true;
  }

  /** The event time the split stands at: its last message's, or the stream's when it is idle. */
  timeOf(sp: JetStreamSplit): number {
    const own = sp.ts ?? Number.NEGATIVE_INFINITY;
    const at = this.idleAt.get(sp.id);
    return at === undefined ? own : Math.max(own, at);
  }
}

/**
 * The subject partitions of a stream: those its subject transform writes (`{{partition(n, ...)}}`,
 * NATS 2.10), else its subjects when it has several (a stream's subjects never overlap).
 */
function streamPartitions(config: { subjects?: string[]; subject_transform?: { dest?: string } }): string[] {
  const dest = config.subject_transform?.dest;
  const byTransform = typeof dest === "string" ? partitionFilters([dest]) : [];
  if (byTransform.length > 0) return byTransform;
  const subjects = config.subjects ?? [];
  return subjects.length > 1 ? [...subjects] : [];
}

/** `source.jetstream` {stream, filterSubject?, format?, startSeq?, endSeq?, bounded?}: a stream's messages, exactly once with checkpointing. */
export const jetStreamSource: InvokableFactory = defineInvokable({
  name: NAME,
  description:
    'Emits the decoded payload of each message of a JetStream stream, in stream order per split (subject partitions or sequence ranges); bounded by endSeq or bounded: true, else unbounded; checkpointed positions. Config {stream, filterSubject?, format? ("json" | "msgpack" | "string" | "bytes"), startSeq?, endSeq?, bounded?}.',
  kind: "source",
  keys: ["stream", "filterSubject", "format", "startSeq", "endSeq", "bounded"],
  settings: jetStreamSourceSettings,
  create: (s) => new JetStreamSource(s),
});
