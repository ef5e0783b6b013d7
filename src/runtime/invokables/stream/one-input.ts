/**
 * The stateless one-input operators of the stream API: `eddy.stream.map`, `flatMap`, `filter`,
 * `process` (a non-keyed ProcessFunction), `keyBy` (writes `[key, value]` envelopes for the hash edge
 * that follows: the actors' dispatch reads its messages so) and `watermarks`
 * (Flink's TimestampsAndWatermarksOperator with a bounded-out-of-orderness generator). Each forwards
 * the input's watermarks after the records before them, except `watermarks`, which makes its own.
 */
import type { Invokable, TaskContext } from "../../api.js";
import type { ListState } from "../../../state/api.js";
import { configError, intSetting, recordCounters } from "../../invokable-common.js";
import type {
  FilterFunction,
  FlatMapFunction,
  KeySelector,
  KeyType,
  MapFunction,
  ProcessContext,
  ProcessFunction,
  TimestampAssigner,
} from "../../streaming/functions.js";
import {
  forEachElement,
  gateReaders,
  inputsSetting,
  refSetting,
  runtimeInfo,
  sidesSetting,
  StreamOutput,
  userFunction,
  type GateReader,
  type InputSpec,
} from "../../streaming/stream-operator.js";
import { defineStreamInvokable } from "./define.js";

interface FnSettings {
  fn: string;
  inputs: InputSpec[];
  sides: string[];
}

const FN_KEYS = ["fn", "inputs", "sides"] as const;

function fnSettings(name: string) {
  return (config: Record<string, unknown>, vertexId: string): FnSettings => ({
    fn: refSetting(config, "fn", name, vertexId)!,
    inputs: inputsSetting(config, name, vertexId),
    sides: sidesSetting(config, name, vertexId),
  });
}

/** Checkpoint hooks of a {@link OneInput} operator with state of its own. */
interface OneInputHooks {
  restore(ctx: TaskContext): void;
  snapshot(): void;
}

/** A one-input operator whose per-batch work is `work(records, reader, from, to)`: records `from` to `to` (exclusive). */
class OneInput implements Invokable {
  constructor(
    private readonly work: (records: unknown[], reader: GateReader, from: number, to: number) => void,
    private readonly settings: FnSettings,
    private readonly forwardWatermarks = true,
    private readonly hooks?: OneInputHooks,
  ) {}
  async restore(ctx: TaskContext): Promise<void> {
    this.hooks?.restore(ctx);
  }
  snapshotState(): void {
    this.hooks?.snapshot();
  }
  async invoke(ctx: TaskContext): Promise<void> {
    const readers = gateReaders(ctx, this.settings.inputs, ctx.tdd.inputs.length);
    const counters = recordCounters(ctx);
    const out = ctx.output;
    await forEachElement(ctx, {
      batch: (records, gate, from, to) => {
        counters.in.add(to - from);
        this.work(records, readers[gate] ?? readers[0]!, from, to);
      },
      watermark: (w) => {
        if (this.forwardWatermarks && Number.isFinite(w)) out.emitWatermark?.(w);
      },
    });
  }
}

/** `eddy.stream.map` {fn}: one record per record. */
export const mapOperator = defineStreamInvokable<FnSettings>({
  name: "eddy.stream.map",
  description: "Stream API map: emits fn(record) for every record. Config {fn: ref, inputs?, sides?}.",
  kind: "operator",
  keys: FN_KEYS,
  settings: fnSettings("eddy.stream.map"),
  create(s, ctx) {
    const fn = userFunction<MapFunction<unknown, unknown>>(ctx, s.fn);
    const out = new StreamOutput(ctx.output, s.sides).collector;
    return new OneInput((records, r, from, to) => {
      for (let i = from; i < to; i++) out.collect(fn(r.value(records[i])));
    }, s);
  },
});

/** `eddy.stream.flatMap` {fn}: fn(record, out) emits any number of records. */
export const flatMapOperator = defineStreamInvokable<FnSettings>({
  name: "eddy.stream.flatMap",
  description: "Stream API flatMap: fn(record, out) emits zero or more records. Config {fn: ref, inputs?, sides?}.",
  kind: "operator",
  keys: FN_KEYS,
  settings: fnSettings("eddy.stream.flatMap"),
  create(s, ctx) {
    const fn = userFunction<FlatMapFunction<unknown, unknown>>(ctx, s.fn);
    const out = new StreamOutput(ctx.output, s.sides).collector;
    return new OneInput((records, r, from, to) => {
      for (let i = from; i < to; i++) fn(r.value(records[i]), out);
    }, s);
  },
});

/** `eddy.stream.filter` {fn}: the records fn is true for. */
export const filterOperator = defineStreamInvokable<FnSettings>({
  name: "eddy.stream.filter",
  description: "Stream API filter: keeps the records fn(record) is true for. Config {fn: ref, inputs?, sides?}.",
  kind: "operator",
  keys: FN_KEYS,
  settings: fnSettings("eddy.stream.filter"),
  create(s, ctx) {
    const fn = userFunction<FilterFunction<unknown>>(ctx, s.fn);
    const out = new StreamOutput(ctx.output, s.sides).collector;
    return new OneInput((records, r, from, to) => {
      for (let i = from; i < to; i++) {
        const v = r.value(records[i]);
        if (fn(v)) out.collect(v);
      }
    }, s);
  },
});

/** `eddy.stream.process` {fn}: a non-keyed ProcessFunction (side outputs, element timestamps). */
export const processOperator = defineStreamInvokable<FnSettings>({
  name: "eddy.stream.process",
  description: "Stream API process (non-keyed ProcessFunction): fn.processElement(value, ctx, out). Config {fn: ref, inputs?, sides?}.",
  kind: "operator",
  keys: FN_KEYS,
  settings: fnSettings("eddy.stream.process"),
  create(s, ctx) {
    const fn = userFunction<ProcessFunction<unknown, unknown>>(ctx, s.fn);
    const so = new StreamOutput(ctx.output, s.sides);
    const out = so.collector;
    let value: unknown;
    let record: unknown;
    let reader: GateReader | undefined;
    const pctx: ProcessContext = {
      timestamp: () => reader?.timestamp?.(record),
      output: (tag, v) => so.side(tag, v),
      info: runtimeInfo(ctx),
    };
    return new OneInput((records, r, from, to) => {
      reader = r;
      for (let i = from; i < to; i++) {
        record = records[i];
        value = r.value(record);
        fn.processElement(value, pctx, out);
      }
    }, s);
  },
});

/**
 * `eddy.stream.keyBy` {fn}: `record → [fn(record), record]`, for the hash edge (key index 0) that
 * follows; `[key, record, timestamp]` when its input has timestamps (downstream reads `ts: "envelope"`),
 * which the SDK gives it for a union of streams only: after one stream, the operators downstream apply
 * its timestamp assigner to the record themselves.
 */
export const keyByOperator = defineStreamInvokable<FnSettings>({
  name: "eddy.stream.keyBy",
  description: "Stream API keyBy with a key selector: emits [fn(record), record] for the hash edge on index 0 that follows. Config {fn: ref, inputs?}.",
  kind: "operator",
  keys: FN_KEYS,
  settings: fnSettings("eddy.stream.keyBy"),
  create(s, ctx) {
    const fn = userFunction<KeySelector<unknown, KeyType>>(ctx, s.fn);
    const out = ctx.output;
    const where = `vertex "${ctx.tdd.vertexId}"`;
    return new OneInput((records, r, from, to) => {
      const ts = r.timestamp;
      for (let i = from; i < to; i++) {
        const rec = records[i];
        const v = r.value(rec);
        const k = fn(v);
        if (typeof k !== "string" && typeof k !== "number")
          throw new TypeError(`${where}: the key selector returned ${typeof k}; keys must be strings or numbers`);
        out.emit(ts ? [k, v, ts(rec)] : [k, v]);
      }
    }, s);
  },
});

interface WatermarkSettings {
  ts: string;
  maxOutOfOrderness: number;
  /** Emit after every `every` records (when advanced); 0: after each input batch. */
  every: number;
  inputs: InputSpec[];
}

/**
 * `eddy.stream.watermarks` {ts, maxOutOfOrderness}: Flink's bounded-out-of-orderness watermark
 * strategy. Records pass unchanged; after each input batch the watermark `max timestamp seen -
 * maxOutOfOrderness - 1` goes out when it advanced — or after every `every` records, which makes the
 * watermarks depend on the records alone (deterministic lateness behind a non-parallel source).
 * Upstream watermarks are replaced (not forwarded). Its progress (max timestamp, last watermark,
 * records since it) is checkpointed in operator state.
 */
export const watermarksOperator = defineStreamInvokable<WatermarkSettings>({
  name: "eddy.stream.watermarks",
  description:
    "Stream API assignTimestampsAndWatermarks: bounded out-of-orderness watermarks (max timestamp - maxOutOfOrderness - 1) after each batch. Config {ts: ref, maxOutOfOrderness, inputs?}.",
  kind: "operator",
  keys: ["ts", "maxOutOfOrderness", "every", "inputs"],
  settings: (config, vertexId) => {
    const name = "eddy.stream.watermarks";
    const bound = config.maxOutOfOrderness;
    if (typeof bound !== "number" || !Number.isSafeInteger(bound) || bound < 0)
      configError(name, vertexId, "config.maxOutOfOrderness must be an integer >= 0 (ms)");
    return {
      ts: refSetting(config, "ts", name, vertexId)!,
      maxOutOfOrderness: bound,
      every: intSetting(config, "every", { min: 0, max: 1 << 30, dflt: 0 }, name, vertexId),
      inputs: inputsSetting(config, name, vertexId),
    };
  },
  create(s, ctx) {
    const ts = userFunction<TimestampAssigner<unknown>>(ctx, s.ts);
    const out = ctx.output;
    let maxTs = Number.NEGATIVE_INFINITY;
    let emitted = Number.NEGATIVE_INFINITY;
    const where = `vertex "${ctx.tdd.vertexId}"`;
    const every = s.every;
    let sinceEmit = 0;
    // The generator's progress is checkpointed, so a restored job emits the same watermarks after the
    // same records (and decides lateness as the first run did).
    let state: ListState<[number, number, number]> | undefined;
    const hooks: OneInputHooks = {
      restore(c) {
        state = c.operatorState.getListState<[number, number, number]>("watermarks");
        const entries = state.get();
        if (entries.length === 0) return;
        maxTs = Math.min(...entries.map((e) => e[0]));
        emitted = Math.min(...entries.map((e) => e[1]));
        sinceEmit = entries.length === 1 ? entries[0]![2] : 0;
      },
      snapshot() {
        state?.update([[maxTs, emitted, sinceEmit]]);
      },
    };
    return new OneInput(
      (records, r, from, to) => {
        for (let i = from; i < to; i++) {
          const rec = records[i];
          const t = ts(r.value(rec));
          if (typeof t !== "number" || Number.isNaN(t))
            throw new TypeError(`${where}: the timestamp assigner returned ${String(t)}; timestamps are numbers (ms)`);
          if (t > maxTs) maxTs = t;
          out.emit(rec);
          if (every > 0 && ++sinceEmit >= every) {
            sinceEmit = 0;
            const w = maxTs - s.maxOutOfOrderness - 1;
            if (w > emitted) {
              emitted = w;
              out.emitWatermark?.(w);
            }
          }
        }
        if (every > 0) return;
        const w = maxTs - s.maxOutOfOrderness - 1;
        if (w > emitted) {
          emitted = w;
          out.emitWatermark?.(w);
        }
      },
      { fn: "", inputs: s.inputs, sides: [] },
      false,
      hooks,
    );
  },
});
