/**
 * `op.countPerKey`: a keyed operator (fed by a `hash` edge on the same key) counting records per key
 * in keyed state: for every record `[key, ...rest]` it emits `[key, ...rest, count]`, count being the
 * number of records of that key seen so far including this one. Checkpointed and rescalable through
 * the keyed state backend.
 */
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import { intSetting } from "../invokable-common.js";
import { defineInvokable } from "../define-invokable.js";

const NAME = "op.countPerKey";

class CountPerKey implements Invokable {
  constructor(private readonly keyIndex: number) {}
  async invoke(ctx: TaskContext): Promise<void> {
    const counts = ctx.keyedState.getValueState<number>("count");
    const out = ctx.output;
    const recordsIn = ctx.accumulator(`${ctx.tdd.vertexId}.records-in`);
    for (let b = await ctx.input.next(); b; b = await ctx.input.next()) {
      for (const r of b.records as unknown[][]) {
        ctx.keyedState.setCurrentKey(r[this.keyIndex]);
        const c = (counts.value() ?? 0) + 1;
        counts.update(c);
        out.emit([...r, c]);
      }
      recordsIn.add(b.records.length);
      ctx.input.recycle(b);
      if (!out.isAvailable()) await out.available();
    }
    await out.finish();
  }
}

/** `op.countPerKey` {keyIndex? = 0}: `[key, ...] → [key, ..., count]` with the count in keyed state. */
export const countPerKeyOperator: InvokableFactory = defineInvokable({
  name: NAME,
  description: "Counts records per key (array records, key at keyIndex, default 0) in keyed state and appends the running count. Config {keyIndex?}.",
  kind: "operator",
  keys: ["keyIndex"],
  settings: (config, vertexId) => intSetting(config, "keyIndex", { min: 0, max: 1000, dflt: 0 }, NAME, vertexId),
  create: (keyIndex) => new CountPerKey(keyIndex),
});
