/**
 * `source.textFile`: the lines of a text file. Subtask i of p reads the byte range
 * [i*size/p, (i+1)*size/p) aligned to lines the Hadoop way: it owns every line that *starts* inside
 * its range, so it skips the partial line at its start (unless that is byte 0) and reads past its end
 * to finish its last line. Every line is emitted exactly once, for any parallelism.
 *
 * Where each subtask stands (the offset of its next line) is union operator state: a restore reads
 * on from there, at any parallelism (the unread ranges are dealt anew), as Flink's FileSource does.
 */
import { open, type FileHandle } from "node:fs/promises";
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import type { ListState } from "../../state/api.js";
import { intSetting, SOURCE_BATCH, SourcePacer, stringSetting, Throttle } from "../invokable-common.js";
import { defineInvokable } from "../define-invokable.js";
import { shareOf } from "./sequence.js";

const NAME = "source.textFile";
const NL = 10;
const CR = 13;
/** Bytes read per I/O call. */
export const READ_CHUNK = 1 << 20;

/** Settings of `source.textFile`. */
export interface TextFileSourceConfig {
  /** The file; relative paths resolve against the TaskExecutor's working directory. */
  path: string;
  /** Lines per second over all subtasks (default 0: as fast as they go). */
  ratePerSecond?: number;
}

/** The byte range `[start, end)` subtask `index` of `parallelism` owns in a file of `size` bytes. */
export function byteRange(size: number, index: number, parallelism: number): { start: number; end: number } {
  const { first, count } = shareOf(size, index, parallelism);
  return { start: first, end: first + count };
}

function indexOfByte(buf: Buffer, byte: number, from: number, to: number): number {
  if (from >= to) return -1;
  const i = buf.indexOf(byte, from);
  return i >= 0 && i < to ? i : -1;
}

function lastIndexOfByte(buf: Buffer, byte: number, from: number, to: number): number {
  if (from >= to) return -1;
  const i = buf.lastIndexOf(byte, to - 1);
  return i >= from ? i : -1;
}

/**
 * Reads the lines that start in `[start, end)` of an open file of `size` bytes and hands them to
 * `onLines` in batches of up to `batchLines` (a UTF-8 BOM at byte 0 and line terminators `\n`, `\r\n`
 * are dropped), with the file offset where the line after the batch starts (a checkpoint resumes
 * there). One I/O call per `chunkSize` bytes; one string decode per chunk.
 */
export async function readSplitLines(
  fh: FileHandle,
  size: number,
  start: number,
  end: number,
  onLines: (lines: string[], next: number) => void | Promise<void>,
  opts: { chunkSize?: number; batchLines?: number } = {},
): Promise<void> {
  if (start >= end) return;
  const batchLines = opts.batchLines ?? SOURCE_BATCH;
  let buf = Buffer.allocUnsafe(Math.max(16, opts.chunkSize ?? READ_CHUNK));
  let len = 0; // valid bytes in buf
  let pos = start > 0 ? start - 1 : 0; // file offset of buf[0]
  let skipping = start > 0; // discarding the line that started before our range
  let atFileStart = start === 0;
  let batch: string[] = [];
  /** File offset after the last line in `batch`. */
  let batchEnd = start;
  for (;;) {
    if (len === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2); // one line longer than the buffer
      buf.copy(bigger, 0, 0, len);
      buf = bigger;
    }
    const { bytesRead } = await fh.read(buf, len, buf.length - len, pos + len);
    len += bytesRead;
    const eof = bytesRead === 0 || pos + len >= size;
    let off = 0;
    if (skipping) {
      const nl = indexOfByte(buf, NL, 0, len);
      if (nl < 0) {
        if (eof) break;
        pos += len;
        len = 0;
        continue;
      }
      off = nl + 1;
      skipping = false;
    }
    // Lines starting at a buffer index below `limit` are ours; the last of them may run past it.
    const limit = end - pos;
    let cut: number;
    let done = false;
    if (off >= limit) {
      cut = off;
      done = true;
    } else {
      const k = limit <= len ? indexOfByte(buf, NL, limit - 1, len) : -1;
      if (k >= 0) {
        cut = k + 1;
        done = true;
      } else if (eof) {
        cut = len;
        done = true;
      } else {
        const last = lastIndexOfByte(buf, NL, off, len);
        cut = last >= 0 ? last + 1 : off;
      }
    }
    if (cut > off) {
      let s = buf.toString("utf8", off, cut);
      let base = pos + off; // file offset of s[0]
      if (atFileStart) {
        if (s.charCodeAt(0) === 0xfeff) {
          s = s.slice(1);
          base += 3;
        }
        atFileStart = false;
      }
      const n = s.length;
      // File offset of char index x of s (x never decreasing): plain arithmetic when every char is one byte.
      const ascii = n === pos + cut - base;
      let atChar = 0;
      let atByte = base;
      const offsetOf = (x: number): number => {
        if (ascii) return base + x;
        atByte += Buffer.byteLength(s.slice(atChar, x));
        atChar = x;
        return atByte;
      };
      let i = 0;
      while (i < n) {
        const j = s.indexOf("\n", i);
        let e = j < 0 ? n : j;
        if (e > i && s.charCodeAt(e - 1) === CR) e--;
        batch.push(s.slice(i, e));
        if (batch.length >= batchLines) {
          await onLines(batch, offsetOf(j < 0 ? n : j + 1));
          batch = [];
        }
        if (j < 0) break;
        i = j + 1;
      }
      if (batch.length > 0) batchEnd = offsetOf(n);
    }
    if (done) break;
    buf.copy(buf, 0, cut, len);
    pos += cut;
    len -= cut;
  }
  if (batch.length > 0) await onLines(batch, batchEnd);
}

/** Lines still to read: those starting in `[next, end)`. */
interface LineRange {
  next: number;
  end: number;
}

class TextFileSource implements Invokable {
  private state: ListState<LineRange> | undefined;
  private restored: LineRange[] | undefined;
  /** This subtask's ranges; each one's `next` moves on as its lines are emitted. */
  private ranges: LineRange[] = [];

  constructor(
    private readonly path: string,
    private readonly ratePerSecond: number,
  ) {}

  async restore(ctx: TaskContext): Promise<void> {
    this.state = ctx.operatorState.getUnionListState<LineRange>("ranges");
    const all = this.state.get();
    if (all.length > 0) this.restored = [...all];
  }

  /** What is left of every range (a subtask with nothing left keeps an empty one: a restore must not read the file again). */
  snapshotState(): void {
    const left = this.ranges.filter((r) => r.next < r.end).map((r) => ({ next: r.next, end: r.end }));
    this.state?.update(left.length > 0 ? left : [{ next: 0, end: 0 }]);
  }

  async invoke(ctx: TaskContext): Promise<void> {
    if (!this.state) await this.restore(ctx);
    const out = ctx.output;
    const emitted = ctx.accumulator(`${ctx.tdd.vertexId}.records-out`);
    const pacer = new SourcePacer(ctx);
    const throttle = this.ratePerSecond > 0 ? new Throttle(ctx, this.ratePerSecond) : undefined;
    ctx.signal.throwIfAborted();
    const fh = await open(this.path, "r");
    try {
      const size = (await fh.stat()).size;
      const { subtaskIndex, parallelism } = ctx.tdd;
      this.ranges = this.restored ? assignRanges(this.restored, parallelism, subtaskIndex) : [toRange(byteRange(size, subtaskIndex, parallelism))];
      for (const r of this.ranges) {
        await readSplitLines(
          fh,
          size,
          r.next,
          r.end,
          async (lines, next) => {
            await throttle?.before(lines.length);
            for (let i = 0; i < lines.length; i++) out.emit(lines[i]);
            emitted.add(lines.length);
            r.next = next; // before the yield, where a checkpoint may be taken
            await pacer.afterBatch();
          },
          throttle ? { batchLines: throttle.batch } : {},
        );
        r.next = r.end;
      }
    } finally {
      await fh.close();
    }
    await out.finish();
  }
}

function toRange(r: { start: number; end: number }): LineRange {
  return { next: r.start, end: r.end };
}

/**
 * The ranges subtask `index` of `parallelism` reads after a restore: every subtask's unread ranges
 * (the union state), in file order, dealt round robin; the same answer in every subtask.
 */
export function assignRanges(all: readonly LineRange[], parallelism: number, index: number): LineRange[] {
  const left = all.filter((r) => r.next < r.end).sort((a, b) => a.next - b.next);
  return left.filter((_, k) => k % parallelism === index).map((r) => ({ ...r }));
}

/** `source.textFile` {path}: emits the file's lines as strings; parallel subtasks split it by bytes. */
export const textFileSource: InvokableFactory = defineInvokable({
  name: NAME,
  description:
    "Emits the lines of a UTF-8 text file as strings (without \\n or \\r\\n); subtasks split the file by byte ranges; checkpointed positions; at most ratePerSecond lines per second when given. Config {path, ratePerSecond?}.",
  kind: "source",
  keys: ["path", "ratePerSecond"],
  settings: (config, vertexId) => ({
    path: stringSetting(config, "path", NAME, vertexId),
    ratePerSecond: intSetting(config, "ratePerSecond", { min: 0, max: 1e9, dflt: 0 }, NAME, vertexId),
  }),
  create: (s) => new TextFileSource(s.path, s.ratePerSecond),
});
