/**
 * The keyed operators of the stream API: `eddy.stream.reduce` (a rolling reduce per key), and
 * `eddy.stream.keyedProcess` / `eddy.stream.coProcess` (Flink's KeyedProcessOperator and
 * CoProcessOperator): user functions with keyed state and timers in event and processing time.
 * State and timers live in the operator's keyed state backend, so they are checkpointed, restored
 * and redistributed by key group like any keyed state.
 */
import { EddyError, ErrorCode, InternalError } from "../../../core/errors.js";
import type { Invokable, TaskContext } from "../../api.js";
import { configError, intSetting, recordCounters } from "../../invokable-common.js";
import type {
  Collector,
  CoProcessFunction,
  KeyedProcessFunction,
  KeyedStateStore,
  OnTimerContext,
  ReduceFunction,
  TimerService,
} from "../../streaming/functions.js";
import {
  AsyncFailure,
  forEachElement,
  gateReaders,
  inputsSetting,
  refSetting,
  runtimeInfo,
  sidesSetting,
  StreamOutput,
  userFunction,
  WatermarkState,
  type GateReader,
  type InputSpec,
} from "../../streaming/stream-operator.js";
import { InternalTimerService, type TimerBackend, type Triggerable } from "../../streaming/timer-service.js";
import { defineStreamInvokable } from "./define.js";

interface KeyedSettings {
  fn: string;
  inputs: InputSpec[];
  sides: string[];
  /** coProcess: the first `firstInputGates` gates are input 1, the others input 2. */
  firstInputGates: number;
}

function keyedSettings(name: string, co: boolean) {
  return (config: Record<string, unknown>, vertexId: string): KeyedSettings => {
    const s: KeyedSettings = {
      fn: refSetting(config, "fn", name, vertexId)!,
      inputs: inputsSetting(config, name, vertexId),
      sides: sidesSetting(config, name, vertexId),
      firstInputGates: co ? intSetting(config, "firstInputGates", { min: 1, max: 1024 }, name, vertexId) : 0,
    };
    if (!co && s.inputs.some((i) => i.key === undefined)) configError(name, vertexId, "every input must be keyed (config.inputs[i].key)");
    return s;
  };
}

/** The keyed backend with `keys(name)` (the heap backend), which the timer service needs. */
export function timerBackend(ctx: TaskContext): TimerBackend {
  const b = ctx.keyedState as Partial<TimerBackend>;
  if (typeof b.keys !== "function") throw new InternalError(`vertex "${ctx.tdd.vertexId}": the keyed state backend cannot list its keys, which timers need`);
  return ctx.keyedState as TimerBackend;
}

/** A restored timer service and how to checkpoint what it holds outside keyed state (its watermark). */
export interface OperatorTimers {
  timers: InternalTimerService;
  /** Call from the operator's `snapshotState`. */
  snapshot(): void;
}

/**
 * The timer service of an event-time operator, restored: timers from keyed state, and the watermark the
 * operator had at the checkpoint (from union operator state), so elements before the next watermark are
 * judged as in the first run.
 */
export function restoreTimers(ctx: TaskContext, target: Triggerable, name: string, onError?: (err: unknown) => void): OperatorTimers {
  const timers = new InternalTimerService(timerBackend(ctx), target, name, onError);
  timers.restore();
  const wm = new WatermarkState(ctx);
  const w = wm.restored();
  if (w !== undefined) timers.restoreWatermark(w);
  return { timers, snapshot: () => wm.snapshot(timers.currentWatermark()) };
}

/** `eddy.stream.reduce` {fn}: per key, emits the reduce of every record so far (Flink's keyed reduce). */
export const reduceOperator = defineStreamInvokable<KeyedSettings>({
  name: "eddy.stream.reduce",
  description: "Stream API keyed reduce: per key, emits fn(previous result, record) for every record (kept in keyed state). Config {fn: ref, inputs (keyed)}.",
  kind: "operator",
  keys: ["fn", "inputs"],
  settings: keyedSettings("eddy.stream.reduce", false),
  create(s, ctx) {
    const fn = userFunction<ReduceFunction<unknown>>(ctx, s.fn);
    const state = ctx.keyedState.getValueState<unknown>("__reduce");
    return {
      async invoke(c) {
        const readers = gateReaders(c, s.inputs, c.tdd.inputs.length);
        const counters = recordCounters(c);
        const out = c.output;
        await forEachElement(c, {
          batch(records, gate, from, to) {
            const r = readers[gate] ?? readers[0]!;
            counters.in.add(to - from);
            for (let i = from; i < to; i++) {
              const rec = records[i];
              c.keyedState.setCurrentKey(r.key(rec));
              const v = r.value(rec);
              const prev = state.value();
              const next = prev === undefined ? v : fn(prev, v);
              state.update(next);
              out.emit(next);
            }
          },
          watermark(w) {
            if (Number.isFinite(w)) out.emitWatermark?.(w);
          },
        });
      },
    };
  },
});

type AnyProcess = {
  processElement?(value: unknown, ctx: unknown, out: Collector<unknown>): void;
  processElement1?(value: unknown, ctx: unknown, out: Collector<unknown>): void;
  processElement2?(value: unknown, ctx: unknown, out: Collector<unknown>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<unknown>, out: Collector<unknown>): void;
};

/** Runs a KeyedProcessFunction or CoProcessFunction; see the module comment. */
class ProcessOperator implements Invokable {
  private timers!: InternalTimerService;
  private readonly failure = new AsyncFailure();
  private readonly fn: AnyProcess;
  private readonly so: StreamOutput;
  private value: unknown;
  private record: unknown;
  private reader: GateReader | undefined;
  private domain: "EVENT_TIME" | "PROCESSING_TIME" = "EVENT_TIME";
  private timerTs: number | undefined;
  private readonly tctx: OnTimerContext<unknown>;

  constructor(
    private readonly s: KeyedSettings,
    private readonly co: boolean,
    ctx: TaskContext,
  ) {
    this.fn = userFunction<AnyProcess>(ctx, s.fn);
    const required = co ? ["processElement1", "processElement2"] : ["processElement"];
    for (const m of required) {
      if (typeof (this.fn as Record<string, unknown>)[m] !== "function") {
        throw new EddyError(ErrorCode.InvalidJobGraph, `vertex "${ctx.tdd.vertexId}": the process function has no ${m}(value, ctx, out) method`);
      }
    }
    this.so = new StreamOutput(ctx.output, s.sides);
    const backend = ctx.keyedState;
    const ts: TimerService = {
      currentProcessingTime: () => Date.now(),
      currentWatermark: () => this.timers.currentWatermark(),
      registerEventTimeTimer: (t) => this.timers.registerEventTimeTimer(0, t),
      registerProcessingTimeTimer: (t) => this.timers.registerProcessingTimeTimer(0, t),
      deleteEventTimeTimer: (t) => this.timers.deleteEventTimeTimer(0, t),
      deleteProcessingTimeTimer: (t) => this.timers.deleteProcessingTimeTimer(0, t),
    };
    this.tctx = {
      timestamp: () => (this.timerTs !== undefined ? this.timerTs : this.reader?.timestamp?.(this.record)),
      output: (tag, v) => this.so.side(tag, v),
      info: runtimeInfo(ctx),
      getCurrentKey: () => backend.getCurrentKey(),
      timerService: () => ts,
      state: backend as KeyedStateStore,
      timeDomain: () => this.domain,
    };
  }

  private restored: OperatorTimers | undefined;

  async restore(ctx: TaskContext): Promise<void> {
    this.restored = restoreTimers(ctx, this, "timers", (e) => this.failure.fail(e));
    this.timers = this.restored.timers;
  }

  snapshotState(): void {
    this.restored?.snapshot();
  }

  onEventTime(timestamp: number): void {
    this.fire(timestamp, "EVENT_TIME");
  }

  onProcessingTime(timestamp: number): void {
    this.fire(timestamp, "PROCESSING_TIME");
  }

  private fire(timestamp: number, domain: "EVENT_TIME" | "PROCESSING_TIME"): void {
    if (!this.fn.onTimer) return;
    this.domain = domain;
    this.timerTs = timestamp;
    try {
      this.fn.onTimer(timestamp, this.tctx, this.so.collector);
    } finally {
      this.timerTs = undefined;
    }
  }

  async invoke(ctx: TaskContext): Promise<void> {
    if (!this.timers) await this.restore(ctx);
    const readers = gateReaders(ctx, this.s.inputs, ctx.tdd.inputs.length);
    const counters = recordCounters(ctx);
    const backend = ctx.keyedState;
    const fn = this.fn;
    const out = this.so.collector;
    const first = this.s.firstInputGates;
    try {
      await forEachElement(
        ctx,
        {
          batch: (records, gate, from, to) => {
            const r = readers[gate] ?? readers[0]!;
            this.reader = r;
            counters.in.add(to - from);
            const process = !this.co ? fn.processElement! : gate < first ? fn.processElement1! : fn.processElement2!;
            for (let i = from; i < to; i++) {
              const rec = records[i];
              if (r.keyed) backend.setCurrentKey(r.key(rec));
              this.record = rec;
              this.value = r.value(rec);
              process.call(fn, this.value, this.tctx, out);
            }
          },
          watermark: (w) => {
            this.timers.advanceWatermark(w);
            this.so.watermark(w);
          },
        },
        this.failure,
      );
    } finally {
      this.timers.close();
    }
  }
}

/** `eddy.stream.keyedProcess` {fn}: a KeyedProcessFunction with keyed state and timers. */
export const keyedProcessOperator = defineStreamInvokable<KeyedSettings>({
  name: "eddy.stream.keyedProcess",
  description:
    "Stream API KeyedProcessFunction: processElement/onTimer with keyed state and event/processing-time timers. Config {fn: ref, inputs (keyed), sides?}.",
  kind: "operator",
  keys: ["fn", "inputs", "sides"],
  settings: keyedSettings("eddy.stream.keyedProcess", false),
  create: (s, ctx) => new ProcessOperator(s, false, ctx),
});

/** `eddy.stream.coProcess` {fn, firstInputGates}: a CoProcessFunction over two connected streams. */
export const coProcessOperator = defineStreamInvokable<KeyedSettings>({
  name: "eddy.stream.coProcess",
  description:
    "Stream API connect: a CoProcessFunction (processElement1/2, onTimer); gates below firstInputGates are input 1. Keyed state and timers when the inputs are keyed. Config {fn: ref, firstInputGates, inputs?, sides?}.",
  kind: "operator",
  keys: ["fn", "inputs", "sides", "firstInputGates"],
  settings: keyedSettings("eddy.stream.coProcess", true),
  create: (s, ctx) => new ProcessOperator(s, true, ctx),
});

export type { CoProcessFunction, KeyedProcessFunction };
