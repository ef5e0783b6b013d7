/**
 * What every stream-API operator (src/runtime/invokables/stream/) shares, Flink's
 * AbstractStreamOperator in small: its user functions (from `ctx.userCode`), how it reads each input
 * gate (plain records, records keyed by the job's key selector or by a field, or the `[key, value]`
 * envelopes of the actors' dispatch; an optional timestamp assigner), its output with side outputs,
 * and the element loop that hands batches and watermarks to the operator.
 */
import { ErrorCode, ValidationError } from "../../core/errors.js";
import { USER_FUNCTION_REF } from "../../core/ids.js";
import type { RecordOutput, TaskContext, UserCode } from "../api.js";
import { isWatermarkEvent, MAX_WATERMARK, type InputBatch, type WatermarkMarks } from "../../core/stream-events.js";
import { configError } from "../invokable-common.js";
import type { KeyType, OutputTag, RuntimeInfo, TimestampAssigner } from "./functions.js";

/**
 * How an operator reads one input gate (one incoming edge, in edge order):
 * `key`: `{selector}` (the key is the job's key selector applied to the record, as the producer did to
 * route it), `"envelope"` (records are `[key, value]`, written by `eddy.stream.keyBy`) or `{field}` (the
 * key is `record[field]`); `ts`: the ref of the stream's timestamp assigner, or `"envelope"` when the
 * `[key, value, timestamp]` envelopes carry the timestamp (a keyBy after a union of streams with
 * different assigners).
 */
export interface InputSpec {
  key?: "envelope" | { field: number | string } | { selector: string };
  ts?: string;
}

/** One gate, resolved. */
export interface GateReader {
  /** The element of a record as it travels (unwraps envelopes). */
  value(record: unknown): unknown;
  /** The key of a record (keyed gates only). */
  key(record: unknown): KeyType;
  /** The event time of a record as it travels (undefined without timestamps). */
  timestamp: ((record: unknown) => number) | undefined;
  keyed: boolean;
}

/** Reads a user-function ref from a config (a non-empty string); throws InvalidJobGraph. */
export function refSetting(config: Record<string, unknown>, key: string, invokable: string, vertexId: string, required = true): string | undefined {
  const v = config[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== "string" || !USER_FUNCTION_REF.test(v))
    configError(invokable, vertexId, `config.${key} must be a user-function ref (a string of [A-Za-z0-9_.#:/-], at most 200)`);
  return v;
}

/** Checks `config.inputs` (an array of {@link InputSpec}); returns it (empty when absent). */
export function inputsSetting(config: Record<string, unknown>, invokable: string, vertexId: string): InputSpec[] {
  const v = config.inputs;
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 1024) configError(invokable, vertexId, "config.inputs must be an array of {key?, ts?}");
  return v.map((s: unknown, i) => {
    if (typeof s !== "object" || s === null) configError(invokable, vertexId, `config.inputs[${i}] must be an object {key?, ts?}`);
    const o = s as Record<string, unknown>;
    const spec: InputSpec = {};
    if (o.key !== undefined) {
      const k = o.key as unknown;
      if (k === "envelope") spec.key = "envelope";
      else if (typeof k === "object" && k !== null && "selector" in k) {
        spec.key = { selector: refSetting(k as Record<string, unknown>, "selector", invokable, vertexId)! };
      } else if (
        typeof k === "object" &&
        k !== null &&
        (typeof (k as { field?: unknown }).field === "number" || typeof (k as { field?: unknown }).field === "string")
      ) {
        spec.key = { field: (k as { field: number | string }).field };
      } else configError(invokable, vertexId, `config.inputs[${i}].key must be "envelope", {field} or {selector}`);
    }
    if (o.ts !== undefined) spec.ts = o.ts === "envelope" ? "envelope" : refSetting(o, "ts", invokable, vertexId)!;
    return spec;
  });
}

/** Checks `config.sides` (side output tag ids, in output order after the main output). */
export function sidesSetting(config: Record<string, unknown>, invokable: string, vertexId: string): string[] {
  const v = config.sides;
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 64 || !v.every((t) => typeof t === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(t))) {
    configError(invokable, vertexId, "config.sides must be an array of side output tag ids");
  }
  return v as string[];
}

/** The user function `ref` of the task's job; a clear error when the task has no user code. */
export function userFunction<T>(ctx: TaskContext, ref: string): T {
  return userCodeOf(ctx, ref).fn<T>(ref);
}

/** The task's user code, where function `ref` is looked up; a clear error when it has none. */
function userCodeOf(ctx: TaskContext, ref: string): UserCode {
  const code = ctx.userCode;
  if (!code) {
    throw new ValidationError(
      ErrorCode.UnknownInvokable,
      `vertex "${ctx.tdd.vertexId}" (${ctx.tdd.invokable}) calls the user function "${ref}", but no user code was loaded for job ${ctx.tdd.jobId}: submit stream-API jobs with \`eddy run FILE\`, which ships the job's code`,
      { details: { vertexId: ctx.tdd.vertexId, ref } },
    );
  }
  return code;
}

/** The key selector `ref` of the job's code (a `keyBy(fn)`), checked to be a function. */
export function keySelectorOf(code: UserCode, ref: string): (record: unknown) => KeyType {
  const fn = code.fn<unknown>(ref);
  if (typeof fn !== "function") throw new ValidationError(ErrorCode.InvalidJobGraph, `the key selector "${ref}" of the job's code is not a function`);
  return fn as (record: unknown) => KeyType;
}

function fieldOf(record: unknown, field: number | string): unknown {
  return (record as Record<string | number, unknown>)[field];
}

/** Resolves the gate readers of an operator; gates beyond `specs` read plain records. */
export function gateReaders(ctx: TaskContext, specs: readonly InputSpec[], gates: number): GateReader[] {
  const out: GateReader[] = [];
  for (let g = 0; g < Math.max(gates, specs.length, 1); g++) {
    const s = specs[g] ?? {};
    const assigner = s.ts && s.ts !== "envelope" ? userFunction<TimestampAssigner<unknown>>(ctx, s.ts) : undefined;
    const k = s.key;
    let timestamp: GateReader["timestamp"];
    if (s.ts === "envelope") timestamp = (r) => (r as [KeyType, unknown, number])[2];
    else if (assigner) timestamp = k === "envelope" ? (r) => assigner((r as [KeyType, unknown])[1]) : assigner;
    if (k === "envelope") {
      out.push({ value: (r) => (r as [KeyType, unknown])[1], key: (r) => (r as [KeyType, unknown])[0], timestamp, keyed: true });
    } else if (k !== undefined && "selector" in k) {
      const selector = keySelectorOf(userCodeOf(ctx, k.selector), k.selector);
      const where = `vertex "${ctx.tdd.vertexId}"`;
      const key = (r: unknown): KeyType => {
        const v = selector(r);
        if (typeof v !== "string" && typeof v !== "number")
          throw new TypeError(`${where}: the key selector returned ${typeof v}; keys must be strings or numbers`);
        return v;
      };
      out.push({ value: (r) => r, key, timestamp, keyed: true });
    } else if (k !== undefined) {
      const f = k.field;
      out.push({ value: (r) => r, key: (r) => fieldOf(r, f) as KeyType, timestamp, keyed: true });
    } else {
      out.push({
        value: (r) => r,
        key: () => {
          throw new ValidationError(ErrorCode.InvalidJobGraph, `vertex "${ctx.tdd.vertexId}" needs a keyed input (keyBy) on gate ${g}`);
        },
        timestamp,
        keyed: false,
      });
    }
  }
  return out;
}

/** Which subtask this is, for user functions. */
export function runtimeInfo(ctx: TaskContext): RuntimeInfo {
  return { subtaskIndex: ctx.tdd.subtaskIndex, parallelism: ctx.tdd.parallelism, vertexId: ctx.tdd.vertexId };
}

/**
 * An operator's output: the main output and its side outputs (Flink's OutputTag): side output i of
 * `sides` (1-based) goes only to the edges that carry output i, the main output to the others.
 */
export class StreamOutput {
  private readonly sideIndex = new Map<string, number>();
  readonly collector: { collect(value: unknown): void };

  constructor(
    private readonly out: RecordOutput,
    sides: readonly string[],
  ) {
    sides.forEach((t, i) => this.sideIndex.set(t, i + 1));
    this.collector = { collect: (v) => out.emit(v) };
  }

  /** Emits `value` to side output `tag` (dropped when nobody reads that side output). */
  side(tag: OutputTag<unknown> | string, value: unknown): void {
    const i = this.sideIndex.get(typeof tag === "string" ? tag : tag.id);
    if (i !== undefined) this.out.emitTo?.(i, value);
  }

  /** Forwards a finite watermark downstream. */
  watermark(w: number): void {
    if (Number.isFinite(w)) this.out.emitWatermark?.(w);
  }
}

/** A failure raised outside the element loop (a processing-time timer), surfaced at the loop's next step. */
export class AsyncFailure {
  private err: { e: unknown } | undefined;
  private reject: ((e: unknown) => void) | undefined;
  /** Rejects once {@link fail} is called. */
  readonly promise: Promise<never> = new Promise<never>((_, reject) => {
    this.reject = reject;
  });
  constructor() {
    this.promise.catch(() => undefined); // awaited by whoever needs it; unawaited it must not be unhandled
  }
  fail(e: unknown): void {
    if (this.err) return;
    this.err = { e };
    this.reject?.(e);
  }
  throwIfFailed(): void {
    if (this.err) throw this.err.e;
  }
}

/**
 * Keeps an event-time operator's watermark in union operator state across a checkpoint: `restore`
 * gives the smallest watermark any old subtask had (all had the same one behind one broadcast),
 * `snapshot` records the current one.
 */
export class WatermarkState {
  private readonly state;
  constructor(ctx: TaskContext) {
    this.state = ctx.operatorState.getUnionListState<number>("__watermark");
  }
  restored(): number | undefined {
    const all = this.state.get();
    return all.length ? Math.min(...all) : undefined;
  }
  snapshot(watermark: number): void {
    this.state.update([watermark]);
  }
}

/** What the element loop hands an operator. */
export interface ElementHandler {
  /** Records `from` (inclusive) to `to` (exclusive) of `records`, a buffer of gate `gate`. */
  batch(records: unknown[], gate: number, from: number, to: number): void;
  /** The input's watermark advanced (the last one is MAX_WATERMARK, at the end of input). */
  watermark(w: number): void;
}

/** Hands `h` the records of `b` and the watermarks between them, in their order. */
function batchWithWatermarks(h: ElementHandler, b: InputBatch, marks: WatermarkMarks): void {
  const records = b.records;
  let from = 0;
  for (let i = 0; i < marks.length; i += 2) {
    const at = marks[i]!;
    if (at > from) {
      h.batch(records, b.gate, from, at);
      from = at;
    }
    h.watermark(marks[i + 1]!);
  }
  if (from < records.length) h.batch(records, b.gate, from, records.length);
}

/**
 * The element loop: every batch and watermark of the task's input to `h`, in order; backpressure
 * honoured after each buffer; ends after the final MAX_WATERMARK. It reads whole buffers with the
 * watermarks inside them (`nextMarkedElement`) where the input can, so a watermark costs no buffer of
 * its own. Inputs with neither `nextMarkedElement` nor `nextElement` (unit harnesses) get MAX_WATERMARK
 * at their end. `failure` aborts the loop when it fails.
 */
export async function forEachElement(ctx: TaskContext, h: ElementHandler, failure?: AsyncFailure): Promise<void> {
  const input = ctx.input;
  const out = ctx.output;
  const race = <T>(p: Promise<T>): Promise<T> => (failure ? Promise.race([p, failure.promise]) : p);
  if (input.nextMarkedElement || input.nextElement) {
    const take = input.nextMarkedElement ? () => input.nextMarkedElement!() : () => input.nextElement!();
    for (let e = await race(take()); e !== null; e = await race(take())) {
      if (isWatermarkEvent(e)) h.watermark(e.watermark);
      else {
        const marks = e.watermarks;
        if (marks === undefined) h.batch(e.records, e.gate, 0, e.records.length);
        else batchWithWatermarks(h, e, marks);
        input.recycle(e);
      }
      failure?.throwIfFailed();
      if (!out.isAvailable()) await race(out.available());
    }
    return;
  }
  for (let b = await race(input.next()); b !== null; b = await race(input.next())) {
    h.batch(b.records, b.gate, 0, b.records.length);
    input.recycle(b);
    failure?.throwIfFailed();
    if (!out.isAvailable()) await race(out.available());
  }
  h.watermark(MAX_WATERMARK);
}
