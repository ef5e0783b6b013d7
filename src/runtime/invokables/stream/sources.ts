/**
 * The sources of the stream API: `eddy.stream.generator` (Flink's DataGeneratorSource: element i =
 * fn(i) for i = 0..count-1, also behind `fromElements`) and `eddy.stream.source` (a SourceFunction
 * written in user code). Both checkpoint their position in union operator state, so a restore at any
 * parallelism rewinds exactly.
 */
import type { Invokable, TaskContext } from "../../api.js";
import type { ListState } from "../../../state/api.js";
import { SOURCE_BATCH, SourcePacer, Throttle, intSetting, recordCounters } from "../../invokable-common.js";
import type { SourceContext, SourceFunction } from "../../streaming/functions.js";
import { refSetting, runtimeInfo, userFunction } from "../../streaming/stream-operator.js";
import { defineStreamInvokable } from "./define.js";

const MAX = Number.MAX_SAFE_INTEGER;

interface GeneratorSettings {
  fn: string;
  count: number;
  splits: number;
  ratePerSecond: number;
}

/**
 * The index space 0..count-1 is cut into `splits` interleaved splits (split k: k, k + splits, ...);
 * subtask s owns the splits k ≡ s (mod parallelism) and emits them round robin, each in increasing
 * index. Position: the next index of every split.
 */
class GeneratorSource implements Invokable {
  /** The next index of each split this subtask owns, by split (undefined for the others; read and written per record). */
  private readonly next: (number | undefined)[] = [];
  private positions: ListState<[number, number]> | undefined;
  private readonly fn: (i: number) => unknown;

  constructor(
    private readonly s: GeneratorSettings,
    ctx: TaskContext,
  ) {
    this.fn = userFunction<(i: number) => unknown>(ctx, s.fn);
  }

  async restore(ctx: TaskContext): Promise<void> {
    this.positions = ctx.operatorState.getUnionListState<[number, number]>("positions");
    const { subtaskIndex, parallelism } = ctx.tdd;
    for (let k = subtaskIndex; k < this.s.splits; k += parallelism) this.next[k] = k;
    for (const [k, i] of this.positions.get()) if (this.next[k] !== undefined) this.next[k] = i;
  }

  snapshotState(): void {
    const positions: [number, number][] = [];
    this.next.forEach((i, k) => {
      if (i !== undefined) positions.push([k, i]);
    });
    this.positions!.update(positions);
  }

  async invoke(ctx: TaskContext): Promise<void> {
    if (!this.positions) await this.restore(ctx);
    const { count, splits } = this.s;
    const fn = this.fn;
    const out = ctx.output;
    const emitted = recordCounters(ctx).out;
    const throttle = new Throttle(ctx, this.s.ratePerSecond);
    const pacer = new SourcePacer(ctx);
    const batch = throttle.batch;
    // Round robin over the live splits in split order, resumed where the last batch stopped, so the
    // subtask's indexes increase (a restore starts a new round: every split at its own position).
    const next = this.next;
    const live: number[] = [];
    next.forEach((i, k) => {
      if (i !== undefined && i < count) live.push(k);
    });
    let j = 0;
    while (live.length) {
      await throttle.before(batch);
      let n = 0;
      while (n < batch && live.length) {
        if (j >= live.length) j = 0;
        const k = live[j]!;
        const i = next[k]!;
        out.emit(fn(i));
        n++;
        if (i + splits < count) {
          next[k] = i + splits;
          j++;
        } else {
          next[k] = count;
          live.splice(j, 1);
        }
      }
      emitted.add(n);
      await pacer.afterBatch(); // backpressure, cancellation, and the yield where checkpoints are taken
    }
  }
}

/** `eddy.stream.generator` {fn, count, splits?, ratePerSecond?}: fn(i) for i = 0..count-1; checkpointed. */
export const generatorSource = defineStreamInvokable<GeneratorSettings>({
  name: "eddy.stream.generator",
  description:
    "Stream API generator source: emits fn(i) for i = 0..count-1 in `splits` interleaved splits shared by the subtasks, at most ratePerSecond; checkpointed position. Config {fn: ref, count, splits?, ratePerSecond?}.",
  kind: "source",
  keys: ["fn", "count", "splits", "ratePerSecond"],
  settings: (config, vertexId) => {
    const name = "eddy.stream.generator";
    return {
      fn: refSetting(config, "fn", name, vertexId)!,
      count: intSetting(config, "count", { min: 0, max: MAX }, name, vertexId),
      splits: intSetting(config, "splits", { min: 1, max: 32768, dflt: 1 }, name, vertexId),
      ratePerSecond: intSetting(config, "ratePerSecond", { min: 0, max: MAX, dflt: 0 }, name, vertexId),
    };
  },
  create: (s, ctx) => new GeneratorSource(s, ctx),
});

/** Runs a user SourceFunction; its snapshot lists are kept in union operator state. */
class UserSource implements Invokable {
  private readonly source: SourceFunction<unknown>;
  private state: ListState<unknown> | undefined;
  private canceled = false;
  /** Present when the source wants to hear of completed checkpoints. */
  notifyCheckpointComplete?: (ctx: TaskContext, checkpointId: number) => Promise<void> | void;

  constructor(ref: string, ctx: TaskContext) {
    const factory = userFunction<() => SourceFunction<unknown>>(ctx, ref);
    const source = (this.source = factory());
    if (typeof source?.run !== "function") throw new TypeError(`vertex "${ctx.tdd.vertexId}": the source factory must return an object with run(ctx)`);
    if (source.notifyCheckpointComplete) this.notifyCheckpointComplete = (_c, id) => source.notifyCheckpointComplete!(id);
  }

  async restore(ctx: TaskContext): Promise<void> {
    this.state = ctx.operatorState.getUnionListState<unknown>("source");
    const restored = this.state.get();
    await this.source.open?.(runtimeInfo(ctx), restored.length > 0 || ctx.tdd.restore ? [...restored] : undefined);
  }

  snapshotState(_ctx: TaskContext, checkpointId: number): void {
    if (this.source.snapshotState) this.state!.update(this.source.snapshotState(checkpointId));
  }

  async invoke(ctx: TaskContext): Promise<void> {
    if (!this.state) await this.restore(ctx);
    const out = ctx.output;
    const emitted = recordCounters(ctx).out;
    const pacer = new SourcePacer(ctx);
    let n = 0;
    const sctx: SourceContext<unknown> = {
      collect: (v) => {
        n++;
        out.emit(v);
      },
      emitWatermark: (w) => {
        if (Number.isFinite(w)) out.emitWatermark?.(w);
      },
      info: runtimeInfo(ctx),
    };
    ctx.signal.addEventListener("abort", () => (this.canceled = true), { once: true });
    for (;;) {
      const more = await this.source.run(sctx);
      emitted.add(n);
      n = 0;
      if (!more || this.canceled) break;
      await pacer.afterBatch();
    }
    ctx.signal.throwIfAborted();
  }
}

/** `eddy.stream.source` {fn}: a SourceFunction from the job's code (fn: a factory, called per subtask). */
export const userSource = defineStreamInvokable<{ fn: string }>({
  name: "eddy.stream.source",
  description:
    "Stream API custom source: a SourceFunction factory from the job's code; run(ctx) until it returns false, snapshotState/open for checkpointed positions. Config {fn: ref}.",
  kind: "source",
  keys: ["fn"],
  settings: (config, vertexId) => ({ fn: refSetting(config, "fn", "eddy.stream.source", vertexId)! }),
  create: (s, ctx) => new UserSource(s.fn, ctx),
});

export { SOURCE_BATCH };
