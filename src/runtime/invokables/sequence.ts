/** `source.sequence`: the integers from..to (inclusive) in steps of `step`, split into contiguous shares. */
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import { SourcePacer, Throttle, configError, intSetting } from "../invokable-common.js";
import { defineInvokable } from "../define-invokable.js";

const NAME = "source.sequence";
const MAX = Number.MAX_SAFE_INTEGER;

/** Settings of `source.sequence`. */
export interface SequenceConfig {
  from: number;
  /** Inclusive. */
  to: number;
  /** Default 1. */
  step?: number;
  /** At most this many values per second over all subtasks (0 or absent: unthrottled). */
  ratePerSecond?: number;
}

function settings(config: Record<string, unknown>, vertexId: string): Required<SequenceConfig> {
  const from = intSetting(config, "from", { min: -MAX, max: MAX }, NAME, vertexId);
  const to = intSetting(config, "to", { min: -MAX, max: MAX }, NAME, vertexId);
  const step = intSetting(config, "step", { min: 1, max: MAX, dflt: 1 }, NAME, vertexId);
  if (from > to) configError(NAME, vertexId, `config.from (${from}) must not be greater than config.to (${to})`);
  if (to - from > MAX) configError(NAME, vertexId, `the range ${from}..${to} is wider than ${MAX}; narrow it`);
  const ratePerSecond = intSetting(config, "ratePerSecond", { min: 0, max: MAX, dflt: 0 }, NAME, vertexId);
  return { from, to, step, ratePerSecond };
}

/** Number of values in the sequence. */
export function sequenceCount(c: Required<SequenceConfig>): number {
  return Math.floor((c.to - c.from) / c.step) + 1;
}

/**
 * The contiguous share `[first, first + count)` of `total` items that subtask `index` of `parallelism`
 * owns; shares differ in size by at most one and cover every item exactly once.
 */
export function shareOf(total: number, index: number, parallelism: number): { first: number; count: number } {
  const base = Math.floor(total / parallelism);
  const rem = total % parallelism;
  return { first: index * base + Math.min(index, rem), count: base + (index < rem ? 1 : 0) };
}

class SequenceSource implements Invokable {
  constructor(private readonly c: Required<SequenceConfig>) {}
  async invoke(ctx: TaskContext): Promise<void> {
    const { first, count } = shareOf(sequenceCount(this.c), ctx.tdd.subtaskIndex, ctx.tdd.parallelism);
    const step = this.c.step;
    const out = ctx.output;
    const emitted = ctx.accumulator(`${ctx.tdd.vertexId}.records-out`);
    const pacer = new SourcePacer(ctx);
    let v = this.c.from + first * step;
    let left = count;
    const throttle = new Throttle(ctx, this.c.ratePerSecond);
    const batch = throttle.batch;
    ctx.signal.throwIfAborted();
    while (left > 0) {
      const n = Math.min(left, batch);
      await throttle.before(n);
      for (let k = 0; k < n; k++) {
        out.emit(v);
        v += step;
      }
      left -= n;
      emitted.add(n);
      await pacer.afterBatch();
    }
    await out.finish();
  }
}

/** `source.sequence` {from, to (inclusive), step = 1, ratePerSecond?}: each subtask emits its contiguous share, as numbers. */
export const sequenceSource: InvokableFactory = defineInvokable({
  name: NAME,
  description: "Emits the integers from..to (inclusive, step default 1); each subtask emits a contiguous share. Config {from, to, step?, ratePerSecond?}.",
  kind: "source",
  keys: ["from", "to", "step", "ratePerSecond"],
  settings: settings,
  create: (s) => new SequenceSource(s),
});
