/**
 * `source.textFile`: the lines of a text file. Subtask i of p reads the byte range
 * [i*size/p, (i+1)*size/p) aligned to lines the Hadoop way: it owns every line that *starts* inside
 * its range, so it skips the partial line at its start (unless that is byte 0) and reads past its end
 * to finish its last line. Every line is emitted exactly once, for any parallelism.
 */
import { open, type FileHandle } from "node:fs/promises";
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import { SOURCE_BATCH, SourcePacer, stringSetting } from "../invokable-common.js";
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
 * are dropped). One I/O call per `chunkSize` bytes; one string decode per chunk.
 */
export async function readSplitLines(
  fh: FileHandle,
  size: number,
  start: number,
  end: number,
  onLines: (lines: string[]) => void | Promise<void>,
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
      if (atFileStart) {
        if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
        atFileStart = false;
      }
      const n = s.length;
      let i = 0;
      while (i < n) {
        const j = s.indexOf("\n", i);
        let e = j < 0 ? n : j;
        if (e > i && s.charCodeAt(e - 1) === CR) e--;
        batch.push(s.slice(i, e));
        if (batch.length >= batchLines) {
          await onLines(batch);
          batch = [];
        }
        if (j < 0) break;
        i = j + 1;
      }
    }
    if (done) break;
    buf.copy(buf, 0, cut, len);
    pos += cut;
    len -= cut;
  }
  if (batch.length > 0) await onLines(batch);
}

class TextFileSource implements Invokable {
  constructor(private readonly path: string) {}
  async invoke(ctx: TaskContext): Promise<void> {
    const out = ctx.output;
    const emitted = ctx.accumulator(`${ctx.tdd.vertexId}.records-out`);
    const pacer = new SourcePacer(ctx);
    ctx.signal.throwIfAborted();
    const fh = await open(this.path, "r");
    try {
      const size = (await fh.stat()).size;
      const { start, end } = byteRange(size, ctx.tdd.subtaskIndex, ctx.tdd.parallelism);
      await readSplitLines(fh, size, start, end, async (lines) => {
        for (let i = 0; i < lines.length; i++) out.emit(lines[i]);
        emitted.add(lines.length);
        await pacer.afterBatch();
      });
    } finally {
      await fh.close();
    }
    await out.finish();
  }
}

/** `source.textFile` {path}: emits the file's lines as strings; parallel subtasks split it by bytes. */
export const textFileSource: InvokableFactory = defineInvokable({
  name: NAME,
  description: "Emits the lines of a UTF-8 text file as strings (without \\n or \\r\\n); subtasks split the file by byte ranges. Config {path}.",
  kind: "source",
  keys: ["path"],
  settings: (config, vertexId) => stringSetting(config, "path", NAME, vertexId),
  create: (path) => new TextFileSource(path),
});
