/**
 * `source.keyedEvents`: the exactly-once probe's source (examples/keyed-counter.ts). Event i (0..N-1)
 * has key `k<i mod K>` and is emitted as `[key, i]`. Each subtask owns the keys whose index is its
 * subtask index modulo the parallelism and emits each key's events in increasing i, round robin
 * over its keys, at most `ratePerSecond` events per second over all subtasks. Its position — the next
 * i of every key — is checkpointed in union operator state, so it rewinds exactly, also at another
 * parallelism.
 */
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import type { ListState } from "../../state/api.js";
import { Throttle, intSetting } from "../invokable-common.js";
import { defineInvokable } from "../define-invokable.js";

const NAME = "source.keyedEvents";
const MAX = Number.MAX_SAFE_INTEGER;

/** Settings of `source.keyedEvents`. */
export interface KeyedEventsConfig {
  events: number;
  keys: number;
  ratePerSecond?: number;
}

function settings(config: Record<string, unknown>, vertexId: string): Required<KeyedEventsConfig> {
  return {
    events: intSetting(config, "events", { min: 0, max: MAX }, NAME, vertexId),
    keys: intSetting(config, "keys", { min: 1, max: 1_000_000 }, NAME, vertexId),
    ratePerSecond: intSetting(config, "ratePerSecond", { min: 0, max: MAX, dflt: 0 }, NAME, vertexId),
  };
}

class KeyedEventsSource implements Invokable {
  /** Key index → next event index of that key, for the keys this subtask owns. */
  private next = new Map<number, number>();
  private positions: ListState<[number, number]> | undefined;

  constructor(private readonly c: Required<KeyedEventsConfig>) {}

  async restore(ctx: TaskContext): Promise<void> {
    this.positions = ctx.operatorState.getUnionListState<[number, number]>("positions");
    const { subtaskIndex, parallelism } = ctx.tdd;
    for (let k = subtaskIndex; k < this.c.keys; k += parallelism) this.next.set(k, k);
    // Union state: every subtask sees every key's position and keeps its own keys'.
    for (const [k, i] of this.positions.get()) if (this.next.has(k)) this.next.set(k, i);
  }

  snapshotState(): void {
    this.positions!.update([...this.next]);
  }

  async invoke(ctx: TaskContext): Promise<void> {
    if (!this.positions) await this.restore(ctx);
    const { events, keys } = this.c;
    const out = ctx.output;
    const emitted = ctx.accumulator(`${ctx.tdd.vertexId}.records-out`);
    const throttle = new Throttle(ctx, this.c.ratePerSecond);
    const batch = throttle.batch;
    let live = [...this.next.keys()].filter((k) => this.next.get(k)! < events);
    while (live.length) {
      ctx.signal.throwIfAborted();
      await throttle.before(batch);
      let n = 0;
      while (n < batch && live.length) {
        for (let j = 0; j < live.length && n < batch; j++) {
          const k = live[j]!;
          const i = this.next.get(k)!;
          out.emit([`k${k}`, i]);
          this.next.set(k, i + keys);
          n++;
        }
        live = live.filter((k) => this.next.get(k)! < events);
      }
      emitted.add(n);
      if (!out.isAvailable()) await out.available();
      await ctx.yield(); // where pending checkpoints are taken
    }
    await out.finish();
  }
}

/** `source.keyedEvents` {events, keys, ratePerSecond?}: `[k<i mod keys>, i]` for i = 0..events-1, checkpointed. */
export const keyedEventsSource: InvokableFactory = defineInvokable({
  name: NAME,
  description:
    "Emits [key, i] for i = 0..events-1 with key k<i mod keys>, each key's events in order, at most ratePerSecond; checkpointed position. Config {events, keys, ratePerSecond?}.",
  kind: "source",
  keys: ["events", "keys", "ratePerSecond"],
  settings: settings,
  create: (s) => new KeyedEventsSource(s),
});
