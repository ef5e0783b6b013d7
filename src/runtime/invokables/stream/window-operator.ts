/**
 * `eddy.stream.window`: Flink's WindowOperator for event-time windows (tumbling, sliding, session)
 * with the EventTimeTrigger, allowed lateness and late data to a side output.
 *
 * Per key, the window contents live in keyed state — map state `__windows`: window start → `[end,
 * accumulator, fired]` — so they are checkpointed, restored and moved by key group on rescale with the
 * rest of the keyed state. Each window has event-time timers at its max timestamp (`end - 1`: fire,
 * while it has not fired) and, with allowed lateness, at `end - 1 + allowedLateness` (clean up). The
 * timers follow from the entry, so they are queued in memory only (the timer service's
 * `queueEventTimeTimer`) and queued again from `__windows` after a restore; a timer whose window has
 * gone or changed (a merged session) does nothing. Entries of two elements (written before the fired
 * flag) had their timers in keyed state, which the timer service restores.
 *
 * - An element goes to every window its timestamp belongs to that is not late (a window is late once
 *   `end - 1 + allowedLateness <= watermark`). An element all of whose windows are late and whose
 *   timestamp + allowedLateness <= watermark is late data: dropped (counted) or emitted to the late
 *   side output.
 * - A window fires when the watermark reaches `end - 1`; an element that arrives for an already fired
 *   window within the allowed lateness fires it again at once with the updated result (Flink's
 *   EventTimeTrigger), and its state is dropped at the cleanup time.
 * - Session windows merge every window the new element's `[ts, ts + gap)` overlaps or touches, merging
 *   their accumulators with the aggregate function's `merge`.
 *
 * The aggregation is one of: `reduce` (fn(a, b)), `aggregate` (an AggregateFunction), `process` (every
 * element kept, the window function gets them all), `coGroup` (two inputs, Flink's CoGroupedStreams and
 * JoinedStreams: gates below `firstInputGates` are the first input, the others the second; every
 * element kept in `[first[], second[]]`, so sessions merge across both inputs as in Flink); an optional
 * window function gets (key, window, result, out) — required by `process` and `coGroup`.
 */
import { EddyError, ErrorCode } from "../../../core/errors.js";
import type { TaskContext } from "../../api.js";
import { configError, intSetting, recordCounters } from "../../invokable-common.js";
import type { AggregateFunction, Collector, ReduceFunction, TimeWindow, WindowFunction } from "../../streaming/functions.js";
import { gateReaders, inputsSetting, refSetting, sidesSetting, StreamOutput, userFunction, type InputSpec } from "../../streaming/stream-operator.js";
import type { Namespace } from "../../streaming/timer-service.js";
import { timerBackend } from "./keyed.js";
import { checkWindowAssigner, intersects, latestWindowStart, windowStep, type WindowAssignerSpec } from "../../streaming/windows.js";
import type { MapState } from "../../../state/api.js";
import { defineStreamInvokable } from "./define.js";
import { EventTimeOperator, eventTime, LateElements } from "./event-time-operator.js";

const NAME = "eddy.stream.window";

interface WindowSettings {
  assigner: WindowAssignerSpec;
  mode: "reduce" | "aggregate" | "process" | "coGroup";
  /** coGroup: the first `firstInputGates` gates are the first input. */
  firstInputGates: number;
  fn?: string;
  windowFn?: string;
  allowedLateness: number;
  /** Side output tag of late data (must be listed in `sides`). */
  lateTag?: string;
  inputs: InputSpec[];
  sides: string[];
}

function settings(config: Record<string, unknown>, vertexId: string): WindowSettings {
  const mode = config.mode;
  if (mode !== "reduce" && mode !== "aggregate" && mode !== "process" && mode !== "coGroup")
    configError(NAME, vertexId, `config.mode must be "reduce", "aggregate", "process" or "coGroup"`);
  const s: WindowSettings = {
    assigner: checkWindowAssigner(config.assigner, `vertex "${vertexId}" (${NAME}): config.assigner`),
    mode,
    allowedLateness: intSetting(config, "allowedLateness", { min: 0, max: Number.MAX_SAFE_INTEGER, dflt: 0 }, NAME, vertexId),
    inputs: inputsSetting(config, NAME, vertexId),
    sides: sidesSetting(config, NAME, vertexId),
    firstInputGates: mode === "coGroup" ? intSetting(config, "firstInputGates", { min: 1, max: 1023 }, NAME, vertexId) : 0,
  };
  if (mode === "coGroup" && s.firstInputGates >= s.inputs.length) configError(NAME, vertexId, "config.firstInputGates must leave gates for the second input");
  if (mode === "reduce" || mode === "aggregate") s.fn = refSetting(config, "fn", NAME, vertexId)!;
  const wf = refSetting(config, "windowFn", NAME, vertexId, mode === "process" || mode === "coGroup");
  if (wf !== undefined) s.windowFn = wf;
  if (config.lateTag !== undefined) {
    if (typeof config.lateTag !== "string" || !s.sides.includes(config.lateTag)) configError(NAME, vertexId, "config.lateTag must be one of config.sides");
    s.lateTag = config.lateTag;
  }
  if (s.inputs.length === 0 || s.inputs.some((i) => i.key === undefined || i.ts === undefined)) {
    configError(NAME, vertexId, "every input must be keyed and have timestamps (config.inputs[i] = {key, ts})");
  }
  return s;
}

/** The aggregation as one interface (reduce and process expressed as aggregate functions). */
type Agg = Required<AggregateFunction<unknown, unknown, unknown>>;

/** Which input the element being added came from (coGroup); set per batch by the element loop. */
interface InputCursor {
  side: 0 | 1;
}

function aggregation(s: WindowSettings, ctx: TaskContext, cursor: InputCursor): Agg {
  switch (s.mode) {
    case "reduce": {
      const fn = userFunction<ReduceFunction<unknown>>(ctx, s.fn!);
      // The accumulator is [value] (an empty array before the first element), so null values survive snapshots.
      return {
        createAccumulator: () => [],
        add: (v, acc) => ((acc as unknown[]).length === 0 ? [v] : [fn((acc as unknown[])[0], v)]),
        getResult: (acc) => (acc as unknown[])[0],
        merge: (a, b) => ((a as unknown[]).length === 0 ? b : (b as unknown[]).length === 0 ? a : [fn((a as unknown[])[0], (b as unknown[])[0])]),
      };
    }
    case "aggregate": {
      const fn = userFunction<AggregateFunction<unknown, unknown, unknown>>(ctx, s.fn!);
      for (const m of ["createAccumulator", "add", "getResult"] as const) {
        if (typeof fn[m] !== "function") throw new EddyError(ErrorCode.InvalidJobGraph, `vertex "${ctx.tdd.vertexId}": the aggregate function has no ${m}()`);
      }
      if (s.assigner.kind === "session" && typeof fn.merge !== "function") {
        throw new EddyError(
          ErrorCode.InvalidJobGraph,
          `vertex "${ctx.tdd.vertexId}": session windows merge windows, so the aggregate function needs merge(a, b)`,
        );
      }
      return {
        createAccumulator: () => fn.createAccumulator(),
        add: (v, acc) => fn.add(v, acc),
        getResult: (acc) => fn.getResult(acc),
        merge: (a, b) => fn.merge!(a, b),
      };
    }
    case "process":
      return {
        createAccumulator: () => [],
        add: (v, acc) => {
          (acc as unknown[]).push(v);
          return acc;
        },
        getResult: (acc) => acc,
        merge: (a, b) => (a as unknown[]).concat(b as unknown[]),
      };
    case "coGroup":
      return {
        createAccumulator: () => [[], []],
        add: (v, acc) => {
          (acc as [unknown[], unknown[]])[cursor.side].push(v);
          return acc;
        },
        getResult: (acc) => acc,
        merge: (a, b) => {
          const [a1, a2] = a as [unknown[], unknown[]];
          const [b1, b2] = b as [unknown[], unknown[]];
          return [a1.concat(b1), a2.concat(b2)];
        },
      };
  }
}

/** A window of the current key: its end, its accumulator, 1 once it has fired (absent in older entries). */
type WindowEntry = [end: number, acc: unknown, fired?: 0 | 1];

const WINDOWS_STATE = "__windows";

class WindowOperator extends EventTimeOperator {
  private readonly windows: MapState<number, WindowEntry>;
  private readonly agg: Agg;
  private readonly windowFn: WindowFunction<unknown, unknown, unknown> | undefined;
  private readonly out: Collector<unknown>;
  private readonly lateness: number;
  private readonly cursor: InputCursor = { side: 0 };
  /** Tumbling and sliding windows: their size (0 for sessions). */
  private readonly size: number;
  /**
   * The element being added and the watermark its batch saw, in fields rather than arguments: event
   * times are beyond V8's small integers, and a number handed to a function that is not inlined is a
   * new heap number (a double field is updated in place).
   */
  private value: unknown = undefined;
  private wm = 0;

  constructor(
    private readonly s: WindowSettings,
    private readonly ctx: TaskContext,
  ) {
    super(new StreamOutput(ctx.output, s.sides), "window_timers");
    this.windows = ctx.keyedState.getMapState<number, WindowEntry>(WINDOWS_STATE);
    this.agg = aggregation(s, ctx, this.cursor);
    if (s.windowFn) this.windowFn = userFunction<WindowFunction<unknown, unknown, unknown>>(ctx, s.windowFn);
    this.out = this.so.collector;
    this.lateness = s.allowedLateness;
    this.size = s.assigner.kind === "session" ? 0 : s.assigner.size;
  }

  override async restore(ctx: TaskContext): Promise<void> {
    await super.restore(ctx);
    this.queueRestoredTimers(ctx);
  }

  /**
   * Queues the timers the restored windows imply. An older entry (no fired flag) gets no fire timer:
   * it had its timers in keyed state, restored with it; its cleanup timer fires twice, the second time
   * finding no window.
   */
  private queueRestoredTimers(ctx: TaskContext): void {
    const backend = timerBackend(ctx);
    const prior = backend.getCurrentKey();
    for (const key of [...backend.keys(WINDOWS_STATE)]) {
      backend.setCurrentKey(key);
      for (const [start, entry] of this.windows.entries()) {
        if (entry[2] === 0) this.timers.queueEventTimeTimer(start, entry[0] - 1);
        if (this.lateness > 0) this.timers.queueEventTimeTimer(start, entry[0] - 1 + this.lateness);
      }
    }
    if (prior !== undefined) backend.setCurrentKey(prior);
  }

  /** A window's timer: fire at its max timestamp, drop its state at the cleanup time. */
  onEventTime(timestamp: number, ns: Namespace): void {
    const start = ns as number;
    const entry = this.windows.get(start);
    if (entry === undefined) return;
    const end = entry[0];
    if (timestamp === end - 1) this.fire(start, entry);
    if (timestamp >= end - 1 + this.lateness) this.windows.remove(start);
  }

  /** Emits the window's result and marks it fired (the entry is the backend's, changed in place). */
  private fire(start: number, entry: WindowEntry): void {
    entry[2] = 1;
    const result = this.agg.getResult(entry[1]);
    if (this.windowFn) this.windowFn(this.ctx.keyedState.getCurrentKey(), { start, end: entry[0] } satisfies TimeWindow, result, this.out);
    else this.out.collect(result);
  }

  /** The fire timer (unless the window is already due: it fires at once instead) and the cleanup timer. */
  private queueTimers(start: number, end: number): void {
    if (end - 1 > this.wm) this.timers.queueEventTimeTimer(start, end - 1);
    if (this.lateness > 0) this.timers.queueEventTimeTimer(start, end - 1 + this.lateness);
  }

  /**
   * Adds the current element to window [start, start + size) of the current key, unless the window is
   * late (then answers false); fires it at once when already due.
   */
  private add(start: number): boolean {
    const end = start + this.size;
    if (end - 1 + this.lateness <= this.wm) return false;
    let entry = this.windows.get(start);
    if (entry === undefined) {
      entry = [end, this.agg.add(this.value, this.agg.createAccumulator()), 0];
      this.windows.put(start, entry);
      this.queueTimers(start, end);
    } else {
      // The entry is held by reference in the heap backend: update it in place (its timers exist).
      entry[1] = this.agg.add(this.value, entry[1]);
    }
    if (end - 1 <= this.wm) this.fire(start, entry);
    return true;
  }

  /** Session windows: merges [ts, ts + gap) with the windows of the current key it touches. Returns false when late. */
  private addToSession(ts: number): boolean {
    const { value, wm } = this;
    let start = ts;
    let end = ts + (this.s.assigner as { gap: number }).gap;
    const merged: Array<[number, WindowEntry]> = [];
    for (const [st, e] of this.windows.entries()) {
      if (intersects({ start, end }, { start: st, end: e[0] })) merged.push([st, e]);
    }
    // Windows that touch the union may touch each other only through it: one pass over the union suffices
    // because stored sessions never touch one another.
    for (const [st, e] of merged) {
      if (st < start) start = st;
      if (e[0] > end) end = e[0];
    }
    if (end - 1 + this.lateness <= wm) return false;
    const inside = merged.length === 1 ? merged[0]! : undefined;
    if (inside !== undefined && inside[0] === start && inside[1][0] === end) {
      // Inside one session: the session and its timers stay as they are (no second timer for the same time).
      inside[1][1] = this.agg.add(value, inside[1][1]);
      if (end - 1 <= wm) this.fire(start, inside[1]);
      return true;
    }
    // The merged sessions' timers stay queued and find no window of theirs when they fire.
    let acc = this.agg.add(value, this.agg.createAccumulator());
    for (const [st, e] of merged) {
      acc = this.agg.merge(e[1], acc);
      this.windows.remove(st);
    }
    const entry: WindowEntry = [end, acc, 0];
    this.windows.put(start, entry);
    this.queueTimers(start, end);
    if (end - 1 <= wm) this.fire(start, entry);
    return true;
  }

  invoke(ctx: TaskContext): Promise<void> {
    const readers = gateReaders(ctx, this.s.inputs, ctx.tdd.inputs.length);
    const counters = recordCounters(ctx);
    const late = new LateElements(ctx, this.so);
    const backend = ctx.keyedState;
    const assigner = this.s.assigner;
    const lateness = this.lateness;
    const lateTag = this.s.lateTag;
    const first = this.s.mode === "coGroup" ? this.s.firstInputGates : Number.POSITIVE_INFINITY;
    const cursor = this.cursor;
    const where = `vertex "${ctx.tdd.vertexId}"`;
    const size = this.size;
    const step = assigner.kind === "session" ? 0 : windowStep(assigner);
    return this.run(ctx, (records, gate, from, to) => {
      const r = readers[gate] ?? readers[0]!;
      const tsOf = r.timestamp!;
      cursor.side = gate < first ? 0 : 1;
      counters.in.add(to - from);
      const wm = (this.wm = this.timers.currentWatermark());
      for (let i = from; i < to; i++) {
        const rec = records[i];
        backend.setCurrentKey(r.key(rec));
        const value = (this.value = r.value(rec));
        const ts = eventTime(tsOf(rec), where);
        let anyOnTime = false;
        if (assigner.kind === "session") anyOnTime = this.addToSession(ts);
        else for (let start = latestWindowStart(assigner, ts); start > ts - size; start -= step) if (this.add(start)) anyOnTime = true;
        if (!anyOnTime && ts + lateness <= wm) late.late(value, lateTag);
      }
      this.value = undefined;
    });
  }
}

/** `eddy.stream.window`: event-time windows per key; see the module comment. */
export const windowOperator = defineStreamInvokable<WindowSettings>({
  name: NAME,
  description:
    "Stream API event-time windows (tumbling, sliding, session) per key with allowed lateness and late data to a side output; coGroup: two inputs (window join and coGroup). Config {assigner, mode: reduce|aggregate|process|coGroup, fn?, windowFn?, firstInputGates? (coGroup), allowedLateness?, lateTag?, inputs (keyed, with ts), sides?}.",
  kind: "operator",
  keys: ["assigner", "mode", "fn", "windowFn", "firstInputGates", "allowedLateness", "lateTag", "inputs", "sides"],
  settings,
  create: (s, ctx) => new WindowOperator(s, ctx),
});
