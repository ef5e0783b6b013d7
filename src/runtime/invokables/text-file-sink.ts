/**
 * `sink.textFile`: one line per record into a directory, visible only once committed.
 * - Without checkpointing, subtask i writes the hidden `.part-<i>.<attempt>.inprogress` and renames it
 *   to `part-<i>` on a successful end; a failed or canceled attempt removes it.
 * - With checkpointing it is an exactly-once two-phase-commit sink (Flink's FileSink): records go to a
 *   hidden in-progress file; at a checkpoint the file is closed and becomes pending (recorded in
 *   operator state); when the checkpoint completes, its pending files are renamed to their visible
 *   names `part-<job>-<subtask>-<attempt>-<attempt id>-<n>`. A restored subtask commits the pending files of the
 *   checkpoint it restores (that checkpoint completed); files of later, failed attempts are never
 *   committed. At the end of input the last file becomes pending too: the task then waits for its final
 *   checkpoint (FLIP-147, src/checkpoint/task/final-checkpoint.ts), whose completion commits it, so a sink
 *   that finished is never run again and nothing it wrote is committed twice.
 */
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { closeSync, existsSync, openSync, renameSync, writeSync } from "node:fs";
import type { ListState } from "../../state/api.js";
import { join } from "node:path";
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import { formatLine, stringSetting } from "../invokable-common.js";
import { defineInvokable } from "../define-invokable.js";

const NAME = "sink.textFile";
/** Pending characters that trigger a write. */
const WRITE_THRESHOLD = 256 * 1024;

/** Settings of `sink.textFile`. */
export interface TextFileSinkConfig {
  /** Output directory (created when missing); relative paths resolve against the TaskExecutor's working directory. */
  path: string;
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
    const stale = (ip && owner === index && Number(ip[2]) !== attempt) || (index === 0 && owner >= parallelism);
    if (stale) await rm(join(dir, f), { force: true });
  }
}

/** A closed file waiting for its checkpoint to complete. */
interface PendingFile {
  checkpointId: number;
  pending: string;
  final: string;
}

class TextFileSink implements Invokable {
  private pendingState: ListState<PendingFile> | undefined;
  private pending: PendingFile[] = [];
  private fd: number | undefined;
  private current: { tmp: string; seq: number } | undefined;
  private seq = 0;
  private buffered = "";

  constructor(private readonly dir: string) {}

  async restore(ctx: TaskContext): Promise<void> {
    if (!ctx.checkpointing) return;
    this.pendingState = ctx.operatorState.getListState<PendingFile>("pending");
    // The restored checkpoint completed: everything it recorded as pending is committed now.
    for (const f of this.pendingState.get()) this.commit(f);
    this.pendingState.clear();
  }

  snapshotState(ctx: TaskContext, checkpointId: number): void {
    this.closeCurrent(ctx);
    this.pending.forEach((f) => (f.checkpointId = Math.min(f.checkpointId, checkpointId)));
    this.pendingState!.update(this.pending);
  }

  notifyCheckpointComplete(_ctx: TaskContext, checkpointId: number): void {
    this.pending = this.pending.filter((f) => (f.checkpointId <= checkpointId ? (this.commit(f), false) : true));
  }

  async invoke(ctx: TaskContext): Promise<void> {
    if (ctx.checkpointing) return this.invokeExactlyOnce(ctx);
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
        for (let i = 0; i < rs.length; i++) pending += `${formatLine(rs[i])}\n`;
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
      if (!closed) await fh.close().catch(() => undefined); // the write's own error is thrown below
      await rm(tmp, { force: true }).catch(() => undefined); // best effort: the write's own error is thrown below
      throw err;
    }
    await ctx.output.finish();
  }

  private async invokeExactlyOnce(ctx: TaskContext): Promise<void> {
    if (!this.pendingState) await this.restore(ctx);
    const records = ctx.accumulator("records");
    const recordsIn = ctx.accumulator(`${ctx.tdd.vertexId}.records-in`);
    await mkdir(this.dir, { recursive: true });
    try {
      for (let b = await ctx.input.next(); b; b = await ctx.input.next()) {
        const rs = b.records;
        for (let i = 0; i < rs.length; i++) this.buffered += `${formatLine(rs[i])}\n`;
        records.add(rs.length);
        recordsIn.add(rs.length);
        ctx.input.recycle(b);
        if (this.buffered.length >= WRITE_THRESHOLD) this.writeBuffered(ctx);
        ctx.signal.throwIfAborted();
      }
      // End of input: the rest becomes pending; the final checkpoint (taken next) commits it.
      this.closeCurrent(ctx);
    } catch (err) {
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = undefined;
      if (this.current) await rm(this.current.tmp, { force: true }).catch(() => undefined); // best effort: the error is thrown below
      throw err;
    }
    await ctx.output.finish();
  }

  /** Appends the buffered lines to the in-progress file (synchronously: a snapshot may follow at once). */
  private writeBuffered(ctx: TaskContext): void {
    if (!this.buffered) return;
    if (this.fd === undefined) {
      const { subtaskIndex, attemptNumber } = ctx.tdd;
      const seq = this.seq++;
      this.current = { tmp: join(this.dir, `.${this.baseName(ctx, subtaskIndex, attemptNumber, seq)}.inprogress`), seq };
      this.fd = openSync(this.current.tmp, "w");
    }
    writeSync(this.fd, this.buffered);
    this.buffered = "";
  }

  /** Closes the in-progress file and makes it pending. */
  private closeCurrent(ctx: TaskContext): void {
    this.writeBuffered(ctx);
    if (this.fd === undefined || !this.current) return;
    closeSync(this.fd);
    this.fd = undefined;
    const base = this.baseName(ctx, ctx.tdd.subtaskIndex, ctx.tdd.attemptNumber, this.current.seq);
    const pending = join(this.dir, `.${base}.pending`);
    renameSync(this.current.tmp, pending);
    this.pending.push({ checkpointId: Number.MAX_SAFE_INTEGER, pending, final: join(this.dir, base) });
    this.current = undefined;
  }

  /**
   * `part-<job>-<subtask>-<attempt>-<attempt id>-<n>`: the attempt id keeps names unique when attempt
   * numbers start again (a job recovered by a new leading JobManager), so no file is overwritten.
   */
  private baseName(ctx: TaskContext, subtask: number, attempt: number, seq: number): string {
    return `part-${ctx.tdd.jobId.slice(0, 8)}-${subtask}-${attempt}-${ctx.tdd.attemptId.slice(0, 8)}-${seq}`;
  }

  /** Makes a pending file visible; idempotent (a commit may be repeated after a restore). */
  private commit(f: PendingFile): void {
    if (existsSync(f.pending)) renameSync(f.pending, f.final);
  }
}

/** `sink.textFile` {path: directory}: subtask i writes `part-<i>`, one line per record. */
export const textFileSink: InvokableFactory = defineInvokable({
  name: NAME,
  description:
    "Writes one line per record to <path>/part-<subtask> (string as is, array elements joined by a space, else JSON); visible only once complete. Config {path}.",
  kind: "sink",
  keys: ["path"],
  settings: (config, vertexId) => stringSetting(config, "path", NAME, vertexId),
  create: (path) => new TextFileSink(path),
});
