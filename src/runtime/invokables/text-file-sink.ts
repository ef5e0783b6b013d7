/**
 * `sink.textFile`: subtask i writes `part-<i>` in a directory, one line per record. It writes to the
 * hidden `.part-<i>.<attempt>.inprogress` and renames it on a successful end; a failed or canceled
 * attempt removes its in-progress file, so only complete part files are ever visible.
 */
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import { onlyKeys, stringSetting } from "./common.js";

const NAME = "sink.textFile";
/** Pending characters that trigger a write. */
const WRITE_THRESHOLD = 256 * 1024;

/** Settings of `sink.textFile`. */
export interface TextFileSinkConfig {
  /** Output directory (created when missing); relative paths resolve against the TaskExecutor's working directory. */
  path: string;
}

function field(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return JSON.stringify(v) ?? String(v);
}

/** One output line (without "\n"): a string as is, an array's elements joined by one space, anything else as JSON. */
export function formatLine(r: unknown): string {
  if (typeof r === "string") return r;
  if (Array.isArray(r)) {
    let s = "";
    for (let i = 0; i < r.length; i++) s += i === 0 ? field(r[i]) : " " + field(r[i]);
    return s;
  }
  return field(r);
}

/** The visible name of subtask `index`'s output file. */
export function partFileName(index: number): string {
  return `part-${index}`;
}

const IN_PROGRESS = /^\.part-(\d+)\.(\d+)\.inprogress$/;
const PART = /^part-(\d+)$/;

/** Removes leftovers a previous run or attempt may have left: other attempts' in-progress files of this
 * subtask, and (subtask 0 only) part files of subtask indexes this job does not have. */
async function removeStale(dir: string, index: number, attempt: number, parallelism: number): Promise<void> {
  for (const f of await readdir(dir)) {
    const ip = IN_PROGRESS.exec(f);
    const part = PART.exec(f);
    const owner = ip ? Number(ip[1]) : part ? Number(part[1]) : -1;
    if (owner < 0) continue;
    const stale =
      (ip && owner === index && Number(ip[2]) !== attempt) || (index === 0 && owner >= parallelism);
    if (stale) await rm(join(dir, f), { force: true });
  }
}

class TextFileSink implements Invokable {
  constructor(private readonly dir: string) {}
  async invoke(ctx: TaskContext): Promise<void> {
    const { subtaskIndex, attemptNumber, parallelism, vertexId } = ctx.tdd;
    const records = ctx.accumulator("records");
    const recordsIn = ctx.accumulator(`${vertexId}.records-in`);
    await mkdir(this.dir, { recursive: true });
    await removeStale(this.dir, subtaskIndex, attemptNumber, parallelism);
    const tmp = join(this.dir, `.part-${subtaskIndex}.${attemptNumber}.inprogress`);
    const fh = await open(tmp, "w");
    let closed = false;
    try {
      let pending = "";
      for (let b = await ctx.input.next(); b; b = await ctx.input.next()) {
        const rs = b.records;
        for (let i = 0; i < rs.length; i++) pending += formatLine(rs[i]) + "\n";
        records.add(rs.length);
        recordsIn.add(rs.length);
        ctx.input.recycle(b);
        if (pending.length >= WRITE_THRESHOLD) {
          await fh.write(pending);
          pending = "";
        }
        ctx.signal.throwIfAborted();
      }
      if (pending.length > 0) await fh.write(pending);
      closed = true;
      await fh.close();
      await rename(tmp, join(this.dir, partFileName(subtaskIndex)));
    } catch (err) {
      if (!closed) await fh.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    await ctx.output.finish();
  }
}

/** `sink.textFile` {path: directory}: subtask i writes `part-<i>`, one line per record. */
export const textFileSink: InvokableFactory = {
  name: NAME,
  description: "Writes one line per record to <path>/part-<subtask> (string as is, array elements joined by a space, else JSON); visible only once complete. Config {path}.",
  kind: "sink",
  validate(config, vertexId) {
    onlyKeys(config, ["path"], NAME, vertexId);
    stringSetting(config, "path", NAME, vertexId);
  },
  create(config) {
    onlyKeys(config, ["path"], NAME, "?");
    return new TextFileSink(stringSetting(config, "path", NAME, "?"));
  },
};
