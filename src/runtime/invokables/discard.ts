/** `sink.discard`: consumes and counts records (accumulator `records`). */
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import { forEachInputBatch } from "../invokable-common.js";
import { defineInvokable } from "../define-invokable.js";

const NAME = "sink.discard";

class Discard implements Invokable {
  async invoke(ctx: TaskContext): Promise<void> {
    const records = ctx.accumulator("records");
    const recordsIn = ctx.accumulator(`${ctx.tdd.vertexId}.records-in`);
    await forEachInputBatch(ctx, (batch) => {
      records.add(batch.length);
      recordsIn.add(batch.length);
    });
    await ctx.output.finish();
  }
}

/** `sink.discard` (no settings): drops records, counting them in the accumulator `records`. */
export const discardSink: InvokableFactory = defineInvokable({
  name: NAME,
  description: 'Drops every record, counting them in the accumulator "records". No settings.',
  kind: "sink",
  keys: [],
  create: () => new Discard(),
});
