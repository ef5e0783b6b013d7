/** Helpers shared by the built-in invokables and stream operators: config readers, the batch loops, record formatting. */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { Accumulator, TaskContext } from "./api.js";
import { sleep } from "../core/time.js";

/** Records a source emits between two backpressure / cancellation checks. */
export const SOURCE_BATCH = 1024;
/** A source calls `ctx.yield()` after this many batches (4096 records). */
export const BATCHES_PER_YIELD = 4;

/** Throws the InvalidJobGraph error for one setting of one vertex. */
export function configError(invokable: string, vertexId: string, message: string): never {
  throw new ValidationError(ErrorCode.InvalidJobGraph, `vertex "${vertexId}" (${invokable}): ${message}`, {
    details: { vertexId, invokable },
  });
}

/** Refuses settings the invokable does not know. */
export function onlyKeys(config: Record<string, unknown>, allowed: readonly string[], invokable: string, vertexId: string): void {
  for (const k of Object.keys(config)) {
    if (!allowed.includes(k)) {
      configError(invokable, vertexId, `unknown setting config.${k}; ${allowed.length ? `allowed: ${allowed.join(", ")}` : "it takes no settings"}`);
    }
  }
}

/** Reads an integer setting within [min, max]; `dflt` when absent (required when `dflt` is undefined). */
export function intSetting(
  config: Record<string, unknown>,
  key: string,
  opts: { min: number; max: number; dflt?: number },
  invokable: string,
  vertexId: string,
): number {
  const v = config[key];
  if (v === undefined) {
    if (opts.dflt === undefined) configError(invokable, vertexId, `config.${key} is required (an integer)`);
    return opts.dflt;
  }
  if (typeof v !== "number" || !Number.isInteger(v) || v < opts.min || v > opts.max) {
    configError(invokable, vertexId, `config.${key} must be an integer in [${opts.min}, ${opts.max}], got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

/** Reads a required non-empty string setting. */
export function stringSetting(config: Record<string, unknown>, key: string, invokable: string, vertexId: string): string {
  const v = config[key];
  if (typeof v !== "string" || v.length === 0 || v.length > 4096) {
    configError(invokable, vertexId, `config.${key} must be a non-empty string (at most 4096 characters)`);
  }
  return v;
}

/** Per-vertex record counters: `<vertexId>.records-in` and `<vertexId>.records-out`. */
export function recordCounters(ctx: TaskContext): { in: Accumulator; out: Accumulator } {
  const v = ctx.tdd.vertexId;
  return { in: ctx.accumulator(`${v}.records-in`), out: ctx.accumulator(`${v}.records-out`) };
}

/**
 * Source pacing, called after each emitted batch: stops on cancellation (throws the abort reason),
 * waits while the output is backpressured, and lets I/O and timers run every few thousand records.
 */
export class SourcePacer {
  private batches = 0;
  constructor(private readonly ctx: TaskContext) {}
  async afterBatch(): Promise<void> {
    const { ctx } = this;
    ctx.signal.throwIfAborted();
    if (!ctx.output.isAvailable()) await ctx.output.available();
    if (++this.batches % BATCHES_PER_YIELD === 0) await ctx.yield();
    ctx.signal.throwIfAborted();
  }
}

/**
 * Throttles a source subtask to its share of a vertex-wide rate (records per second over all
 * subtasks; 0: unthrottled), in batches of about 10 ms worth of records.
 */
export class Throttle {
  /** Records to emit between two calls of {@link before}. */
  readonly batch: number;
  private readonly rate: number;
  private readonly t0 = Date.now();
  private done = 0;

  constructor(
    private readonly ctx: TaskContext,
    ratePerSecond: number,
    maxBatch = SOURCE_BATCH,
  ) {
    this.rate = ratePerSecond / ctx.tdd.parallelism;
    this.batch = this.rate > 0 ? Math.max(1, Math.min(maxBatch, Math.floor(this.rate / 100))) : maxBatch;
  }

  /** Waits (flushing the output first) until `n` more records fit the rate, then counts them. */
  async before(n: number): Promise<void> {
    if (this.rate > 0) {
      const wait = this.t0 + (this.done / this.rate) * 1000 - Date.now();
      if (wait > 0) {
        this.ctx.output.flush();
        await sleep(wait, this.ctx.signal);
        this.ctx.signal.throwIfAborted();
      }
    }
    this.done += n;
  }
}

/**
 * The operator loop: hands every input batch to `fn`, recycles it and honours backpressure; ends when
 * every input has ended. Emits nothing itself and does not call `finish()`.
 */
export async function forEachInputBatch(ctx: TaskContext, fn: (records: unknown[]) => void): Promise<void> {
  for (let b = await ctx.input.next(); b; b = await ctx.input.next()) {
    fn(b.records);
    ctx.input.recycle(b);
    if (!ctx.output.isAvailable()) await ctx.output.available();
  }
}

/** Describes a record for error messages, briefly. */
export function describeRecord(r: unknown): string {
  let s: string;
  try {
    s = typeof r === "bigint" ? `${r}n` : (JSON.stringify(r) ?? String(r));
  } catch {
    s = String(r);
  }
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
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
    for (let i = 0; i < r.length; i++) s += i === 0 ? field(r[i]) : ` ${field(r[i])}`;
    return s;
  }
  return field(r);
}
