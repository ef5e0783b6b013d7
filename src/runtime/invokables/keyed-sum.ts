/**
 * `op.keyedSum`: sums a numeric field per key over bounded input and emits `[key, sum]` per key once
 * every input has ended (batch semantics). A streaming mode that emits running sums, backed by keyed
 * state and checkpoints, comes with the state work.
 */
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import { SOURCE_BATCH, SourcePacer, describeRecord, forEachInputBatch, intSetting, recordCounters } from "../invokable-common.js";
import { defineInvokable } from "../define-invokable.js";

const NAME = "op.keyedSum";
const KEYS = ["keyIndex", "valueIndex"] as const;

/** Settings of `op.keyedSum`. */
export interface KeyedSumConfig {
  /** Index of the key in each array record (default 0). */
  keyIndex?: number;
  /** Index of the summed number (default 1). */
  valueIndex?: number;
}

function settings(config: Record<string, unknown>, vertexId: string): Required<KeyedSumConfig> {
  const keyIndex = intSetting(config, "keyIndex", { min: 0, max: 1_000_000, dflt: 0 }, NAME, vertexId);
  const valueIndex = intSetting(config, "valueIndex", { min: 0, max: 1_000_000, dflt: 1 }, NAME, vertexId);
  return { keyIndex, valueIndex };
}

/**
 * A copy of `s` that does not keep a larger parent string alive (V8 represents long slices as views
 * into their parent: a map key sliced from a 1 MiB read chunk would pin the chunk).
 */
function detach(s: string): string {
  return s.length < 13 ? s : `${s} `.slice(0, -1);
}

/**
 * The sums, one slot per key in first-seen order: a record costs one `Map` lookup (the key's slot)
 * and an add into a typed array, where a `Map` of sums would take a `get` and a `set`.
 */
class Sums {
  private readonly slots = new Map<unknown, number>();
  readonly keys: unknown[] = [];
  totals = new Float64Array(1024);

  /** The slot of `key`, or -1 when it has none yet. */
  slotOf(key: unknown): number {
    return this.slots.get(key) ?? -1;
  }

  /** A new slot for `key`, starting at `value`. */
  add(key: unknown, value: number): void {
    const slot = this.keys.length;
    if (slot === this.totals.length) {
      const grown = new Float64Array(slot * 2);
      grown.set(this.totals);
      this.totals = grown;
    }
    this.slots.set(key, slot);
    this.keys.push(key);
    this.totals[slot] = value;
  }
}

class KeyedSum implements Invokable {
  constructor(private readonly c: Required<KeyedSumConfig>) {}
  async invoke(ctx: TaskContext): Promise<void> {
    const { keyIndex, valueIndex } = this.c;
    const sums = new Sums();
    const counters = recordCounters(ctx);
    const bad = (r: unknown, why: string): never => {
      throw new TypeError(`${NAME} (vertex ${ctx.tdd.vertexId}): ${why}, got ${describeRecord(r)}`);
    };
    await forEachInputBatch(ctx, (records) => {
      for (let i = 0; i < records.length; i++) {
        const r = records[i];
        if (!Array.isArray(r)) bad(r, `records must be arrays [key, value, ...]`);
        const rec = r as unknown[];
        const key = rec[keyIndex];
        const value = rec[valueIndex];
        if (typeof value !== "number") bad(r, `field ${valueIndex} must be a number`);
        const slot = sums.slotOf(key);
        if (slot >= 0) sums.totals[slot]! += value as number;
        else {
          if (key !== null && (typeof key === "object" || typeof key === "function" || key === undefined)) {
            bad(r, `field ${keyIndex} must be a string, number, boolean, bigint or null key`);
          }
          sums.add(typeof key === "string" ? detach(key) : key, value as number);
        }
      }
      counters.in.add(records.length);
    });
    const out = ctx.output;
    const pacer = new SourcePacer(ctx);
    const { keys, totals } = sums;
    for (let n = 0; n < keys.length; ) {
      out.emit([keys[n], totals[n]]);
      if (++n % SOURCE_BATCH === 0) await pacer.afterBatch();
    }
    counters.out.add(keys.length);
    await out.finish();
  }
}

/** `op.keyedSum` {keyIndex = 0, valueIndex = 1}: `[key, sum]` per key at the end of input. */
export const keyedSumOperator: InvokableFactory = defineInvokable({
  name: NAME,
  description:
    "Sums field valueIndex (default 1) per field keyIndex (default 0) of array records; emits [key, sum] per key at end of input. Config {keyIndex?, valueIndex?}.",
  kind: "operator",
  keys: KEYS,
  settings: settings,
  create: (s) => new KeyedSum(s),
});
