/** `op.identity`: forwards every record unchanged. */
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import { forEachInputBatch, recordCounters } from "../invokable-common.js";
import { defineInvokable } from "../define-invokable.js";

const NAME = "op.identity";

class Identity implements Invokable {
  async invoke(ctx: TaskContext): Promise<void> {
    const out = ctx.output;
    const counters = recordCounters(ctx);
    await forEachInputBatch(ctx, (records) => {
      for (let i = 0; i < records.length; i++) out.emit(records[i]);
      counters.in.add(records.length);
      counters.out.add(records.length);
    });
    await out.finish();
  }
}

/** `op.identity` (no settings): forwards every record. */
export const identityOperator: InvokableFactory = defineInvokable({
  name: NAME,
  description: "Forwards every record unchanged. No settings.",
  kind: "operator",
  keys: [],
  create: () => new Identity(),
});
