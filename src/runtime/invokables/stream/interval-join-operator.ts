/**
 * `eddy.stream.intervalJoin`: Flink's IntervalJoinOperator. Two keyed inputs with event time (gates
 * below `firstInputGates` are the left input); a left element at `t` joins every right element of its
 * key at `t + lowerBound <= t' <= t + upperBound` (exclusive bounds arrive here already moved by one),
 * whichever arrives first, and the ProcessJoinFunction is called once per pair.
 *
 * Per key, each side's elements wait in map state (`__ij_left` / `__ij_right`: timestamp → elements)
 * for as long as an element of the other side could still join them: the first element of a bucket
 * registers an event-time timer (namespace 0 left, 1 right) at the last time a partner can have, and
 * the bucket is dropped when the watermark reaches it. State and timers are keyed state, so they are
 * checkpointed, restored and moved by key group on rescale with the rest.
 *
 * An element behind the watermark (`t < watermark`) is late: dropped (counted in
 * `<vertex>.late-records-dropped`) or emitted to its side's late-data side output.
 */
import { EddyError, ErrorCode } from "../../../core/errors.js";
import { MIN_WATERMARK } from "../../../core/stream-events.js";
import type { MapState } from "../../../state/api.js";
import type { TaskContext } from "../../api.js";
import { configError, intSetting, recordCounters } from "../../invokable-common.js";
import type { Collector, ProcessJoinContext, ProcessJoinFunction } from "../../streaming/functions.js";
import {
  gateReaders,
  inputsSetting,
  refSetting,
  runtimeInfo,
  sidesSetting,
  StreamOutput,
  userFunction,
  type InputSpec,
} from "../../streaming/stream-operator.js";
import type { Namespace } from "../../streaming/timer-service.js";
import { defineStreamInvokable } from "./define.js";
import { EventTimeOperator, eventTime, LateElements } from "./event-time-operator.js";

const NAME = "eddy.stream.intervalJoin";
const TAG = /^[A-Za-z0-9_-]{1,64}$/;
const LEFT = 0;
const RIGHT = 1;

interface IntervalJoinSettings {
  fn: string;
  /** Inclusive bounds (exclusive ones moved by one by the SDK), ms relative to the left element. */
  lowerBound: number;
  upperBound: number;
  firstInputGates: number;
  leftLateTag?: string;
  rightLateTag?: string;
  inputs: InputSpec[];
  sides: string[];
}

function lateTag(config: Record<string, unknown>, key: string, vertexId: string): string | undefined {
  const v = config[key];
  if (v === undefined) return undefined;
  // A late-data tag nobody reads downstream is not in `sides`: its elements are dropped there.
  if (typeof v !== "string" || !TAG.test(v)) configError(NAME, vertexId, `config.${key} must be a side output tag id`);
  return v;
}

function settings(config: Record<string, unknown>, vertexId: string): IntervalJoinSettings {
  const bound = { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER };
  const s: IntervalJoinSettings = {
    fn: refSetting(config, "fn", NAME, vertexId)!,
    lowerBound: intSetting(config, "lowerBound", bound, NAME, vertexId),
    upperBound: intSetting(config, "upperBound", bound, NAME, vertexId),
    firstInputGates: intSetting(config, "firstInputGates", { min: 1, max: 1023 }, NAME, vertexId),
    inputs: inputsSetting(config, NAME, vertexId),
    sides: sidesSetting(config, NAME, vertexId),
  };
  const l = lateTag(config, "leftLateTag", vertexId);
  if (l !== undefined) s.leftLateTag = l;
  const r = lateTag(config, "rightLateTag", vertexId);
  if (r !== undefined) s.rightLateTag = r;
  if (s.firstInputGates >= s.inputs.length) configError(NAME, vertexId, "config.firstInputGates must leave gates for the right input");
  if (s.inputs.some((i) => i.key === undefined || i.ts === undefined)) {
    configError(NAME, vertexId, "every input must be keyed and have timestamps (config.inputs[i] = {key, ts})");
  }
  return s;
}

class IntervalJoinOperator extends EventTimeOperator {
  private readonly fn: ProcessJoinFunction<unknown, unknown, unknown>;
  private readonly left: MapState<number, unknown[]>;
  private readonly right: MapState<number, unknown[]>;
  private readonly out: Collector<unknown>;
  private readonly jctx: ProcessJoinContext;
  private leftTs = 0;
  private rightTs = 0;

  constructor(
    private readonly s: IntervalJoinSettings,
    ctx: TaskContext,
  ) {
    super(new StreamOutput(ctx.output, s.sides), "ij_timers");
    this.fn = userFunction<ProcessJoinFunction<unknown, unknown, unknown>>(ctx, s.fn);
    if (typeof this.fn?.processElement !== "function") {
      throw new EddyError(
        ErrorCode.InvalidJobGraph,
        `vertex "${ctx.tdd.vertexId}": the process join function has no processElement(left, right, ctx, out) method`,
      );
    }
    this.left = ctx.keyedState.getMapState<number, unknown[]>("__ij_left");
    this.right = ctx.keyedState.getMapState<number, unknown[]>("__ij_right");
    this.out = this.so.collector;
    this.jctx = {
      leftTimestamp: () => this.leftTs,
      rightTimestamp: () => this.rightTs,
      timestamp: () => Math.max(this.leftTs, this.rightTs),
      output: (tag, v) => this.so.side(tag, v),
      info: runtimeInfo(ctx),
    };
  }

  /** A bucket's cleanup timer: no element of the other side can join it any more. */
  onEventTime(timestamp: number, ns: Namespace): void {
    const { lowerBound, upperBound } = this.s;
    if (ns === LEFT) this.left.remove(upperBound <= 0 ? timestamp : timestamp - upperBound);
    else this.right.remove(lowerBound <= 0 ? timestamp + lowerBound : timestamp);
  }

  /** Buffers `value` (time `ts`) of one side and joins it with the other side's buffered elements in range. */
  private element(isLeft: boolean, value: unknown, ts: number): void {
    const ours = isLeft ? this.left : this.right;
    const other = isLeft ? this.right : this.left;
    const lo = ts + (isLeft ? this.s.lowerBound : -this.s.upperBound);
    const hi = ts + (isLeft ? this.s.upperBound : -this.s.lowerBound);
    const bucket = ours.get(ts);
    if (bucket === undefined) {
      ours.put(ts, [value]);
      // One timer per bucket: it exists for as long as the bucket does.
      this.timers.registerEventTimeTimer(isLeft ? LEFT : RIGHT, Math.max(hi, ts));
    } else bucket.push(value);
    const fn = this.fn;
    for (const [t, elements] of other.entries()) {
      if (t < lo || t > hi) continue;
      if (isLeft) {
        this.leftTs = ts;
        this.rightTs = t;
        for (let i = 0; i < elements.length; i++) fn.processElement(value, elements[i], this.jctx, this.out);
      } else {
        this.leftTs = t;
        this.rightTs = ts;
        for (let i = 0; i < elements.length; i++) fn.processElement(elements[i], value, this.jctx, this.out);
      }
    }
  }

  invoke(ctx: TaskContext): Promise<void> {
    const readers = gateReaders(ctx, this.s.inputs, ctx.tdd.inputs.length);
    const counters = recordCounters(ctx);
    const late = new LateElements(ctx, this.so);
    const backend = ctx.keyedState;
    const first = this.s.firstInputGates;
    const where = `vertex "${ctx.tdd.vertexId}"`;
    return this.run(ctx, (records, gate, from, to) => {
      const r = readers[gate] ?? readers[0]!;
      const tsOf = r.timestamp!;
      const isLeft = gate < first;
      const tag = isLeft ? this.s.leftLateTag : this.s.rightLateTag;
      counters.in.add(to - from);
      const wm = this.timers.currentWatermark();
      for (let i = from; i < to; i++) {
        const rec = records[i];
        const ts = eventTime(tsOf(rec), where);
        if (wm !== MIN_WATERMARK && ts < wm) late.late(r.value(rec), tag);
        else {
          backend.setCurrentKey(r.key(rec));
          this.element(isLeft, r.value(rec), ts);
        }
      }
    });
  }
}

/** `eddy.stream.intervalJoin`: Flink's interval join of two keyed streams; see the module comment. */
export const intervalJoinOperator = defineStreamInvokable<IntervalJoinSettings>({
  name: NAME,
  description:
    "Stream API interval join: per key, each left element at t with every right element at t + lowerBound .. t + upperBound (inclusive), calling a ProcessJoinFunction per pair; state cleaned by event-time timers. Config {fn, lowerBound, upperBound, firstInputGates, leftLateTag?, rightLateTag?, inputs (keyed, with ts), sides?}.",
  kind: "operator",
  keys: ["fn", "lowerBound", "upperBound", "firstInputGates", "leftLateTag", "rightLateTag", "inputs", "sides"],
  settings,
  create: (s, ctx) => new IntervalJoinOperator(s, ctx),
});
