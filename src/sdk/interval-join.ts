/**
 * Flink's interval join: `a.keyBy(k).intervalJoin(b.keyBy(k)).between(lower, upper).process(fn)`
 * joins each element of `a` at time t with every element of `b` of the same key at
 * t + lower <= t' <= t + upper (bounds inclusive unless made exclusive), in event time. The state of
 * each element is kept only as long as a partner may still arrive, cleaned by event-time timers
 * (src/runtime/invokables/stream/interval-join-operator.ts).
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { OutputTag, ProcessJoinFunction } from "../runtime/streaming/functions.js";
import type { DataStream, KeyedStream } from "./data-stream.js";

function checkBound(v: number, what: string): number {
  if (!Number.isSafeInteger(v)) throw new ValidationError(ErrorCode.InvalidJobGraph, `intervalJoin: the ${what} bound must be an integer (ms), got ${v}`);
  return v;
}

/** Two keyed streams to interval-join: set the bounds with `between`. */
export class IntervalJoin<T1, T2, K> {
  /** @internal */
  constructor(
    private readonly left: KeyedStream<T1, K>,
    private readonly right: KeyedStream<T2, K>,
  ) {
    if (left.graph !== right.graph) throw new ValidationError(ErrorCode.InvalidJobGraph, "intervalJoin() of streams of different environments");
    if (!left.inputs.concat(right.inputs as never[]).every((i) => i.ts !== undefined)) {
      throw new ValidationError(
        ErrorCode.InvalidJobGraph,
        "intervalJoin needs timestamps on both streams: call assignTimestampsAndWatermarks(...) before keyBy(...)",
      );
    }
  }

  /** Right elements at `left time + lowerMs` to `left time + upperMs` (both inclusive, lowerMs <= upperMs) join a left element. */
  between(lowerMs: number, upperMs: number): IntervalJoined<T1, T2, K> {
    checkBound(lowerMs, "lower");
    checkBound(upperMs, "upper");
    if (lowerMs > upperMs) throw new ValidationError(ErrorCode.InvalidJobGraph, `intervalJoin: the lower bound ${lowerMs} is above the upper bound ${upperMs}`);
    return new IntervalJoined<T1, T2, K>(this.left, this.right, lowerMs, upperMs);
  }
}

/** An interval join with its bounds; finish with `process(ProcessJoinFunction)`. */
export class IntervalJoined<T1, T2, K> {
  private lowerInclusive = true;
  private upperInclusive = true;
  private leftLateTag: string | undefined;
  private rightLateTag: string | undefined;

  /** @internal */
  constructor(
    private readonly left: KeyedStream<T1, K>,
    private readonly right: KeyedStream<T2, K>,
    private readonly lower: number,
    private readonly upper: number,
  ) {}

  /** Right elements exactly at `left time + lower` do not join. */
  lowerBoundExclusive(): this {
    this.lowerInclusive = false;
    return this;
  }

  /** Right elements exactly at `left time + upper` do not join. */
  upperBoundExclusive(): this {
    this.upperInclusive = false;
    return this;
  }

  /** Left elements behind the watermark go to side output `tag` instead of being dropped. */
  sideOutputLeftLateData(tag: OutputTag<T1>): this {
    this.leftLateTag = tag.id;
    return this;
  }

  /** Right elements behind the watermark go to side output `tag` instead of being dropped. */
  sideOutputRightLateData(tag: OutputTag<T2>): this {
    this.rightLateTag = tag.id;
    return this;
  }

  /** `fn.processElement(left, right, ctx, out)` once per joined pair. */
  process<R>(fn: ProcessJoinFunction<T1, T2, R>): DataStream<R> {
    if (typeof fn?.processElement !== "function")
      throw new ValidationError(ErrorCode.InvalidJobGraph, "intervalJoin process() needs a ProcessJoinFunction {processElement(left, right, ctx, out)}");
    // Exclusive bounds become inclusive ones one ms further in, so the operator compares inclusively.
    const config: Record<string, unknown> = {
      lowerBound: this.lowerInclusive ? this.lower : this.lower + 1,
      upperBound: this.upperInclusive ? this.upper : this.upper - 1,
      firstInputGates: this.left.inputs.length,
    };
    if (this.leftLateTag !== undefined) config.leftLateTag = this.leftLateTag;
    if (this.rightLateTag !== undefined) config.rightLateTag = this.rightLateTag;
    const both = (this.left as DataStream<unknown>).union(this.right as DataStream<unknown>);
    return both.operator<R>("eddy.stream.intervalJoin", `Interval Join [${this.lower}, ${this.upper}]`, { fn }, config);
  }
}
