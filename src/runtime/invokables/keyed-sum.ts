/**
 * `op.keyedSum`: sums a numeric field per key over bounded input and emits `[key, sum]` per key once
 * every input has ended (batch semantics). A streaming mode that emits running sums, backed by keyed
 * state and checkpoints, comes with the state work.
 *
 * With `partial`, it is the sum's combiner (Flink's combinable reduce in a DataSet plan, Spark's
 * map-side combine): chained before the keyBy's exchange, it sums what its own subtask produced and
 * sends its partial sums downstream in the input's shape (the key at `keyIndex`, the sum at
 * `valueIndex`), so a key crosses the exchange once per producer and table fill instead of once per
 * record. Its table holds at most `maxKeys` keys; a full table is sent and emptied. When its subtask
 * is the only producer for the only consumer (both at parallelism 1, in one slot) there is nothing to
 * save: it forwards the records as they come and the final sum does the work once.
 */
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import type { TaskDeploymentDescriptor } from "../../deployment/descriptors.js";
import { SOURCE_BATCH, SourcePacer, configError, describeRecord, forEachInputBatch, intSetting, recordCounters } from "../invokable-common.js";
import { defineInvokable } from "../define-invokable.js";

const NAME = "op.keyedSum";
const KEYS = ["keyIndex", "valueIndex", "partial", "maxKeys"] as const;
/** Default of `maxKeys`: a combiner's table of this many keys takes some 20 MB (short string keys). */
export const COMBINER_MAX_KEYS = 262_144;

/** Settings of `op.keyedSum`. */
export interface KeyedSumConfig {
  /** Index of the key in each array record (default 0). */
  keyIndex?: number;
  /** Index of the summed number (default 1). */
  valueIndex?: number;
  /** A combiner before the exchange: emits partial sums, key and sum at their indexes (default false). */
  partial?: boolean;
  /** Keys a combiner holds before it sends and empties its table, 1..16777216 (default {@link COMBINER_MAX_KEYS}). */
  maxKeys?: number;
}

function settings(config: Record<string, unknown>, vertexId: string): Required<KeyedSumConfig> {
  const keyIndex = intSetting(config, "keyIndex", { min: 0, max: 1_000_000, dflt: 0 }, NAME, vertexId);
  const valueIndex = intSetting(config, "valueIndex", { min: 0, max: 1_000_000, dflt: 1 }, NAME, vertexId);
  const partial = config.partial ?? false;
  if (typeof partial !== "boolean") configError(NAME, vertexId, `config.partial must be true or false, got ${describeRecord(partial)}`);
  const maxKeys = intSetting(config, "maxKeys", { min: 1, max: 1 << 24, dflt: COMBINER_MAX_KEYS }, NAME, vertexId);
  return { keyIndex, valueIndex, partial, maxKeys };
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
  private slots = new Map<unknown, number>();
  keys: unknown[] = [];
  totals = new Float64Array(1024);

  get size(): number {
    return this.keys.length;
  }

  /** Forgets every key (a combiner's table after it was sent). */
  clear(): void {
    this.slots = new Map();
    this.keys = [];
  }

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

  passesThrough(tdd: TaskDeploymentDescriptor): boolean {
    return this.c.partial && tdd.parallelism === 1 && tdd.outputs.every((o) => o.numSubpartitions === 1);
  }

  async invoke(ctx: TaskContext): Promise<void> {
    const { keyIndex, valueIndex, partial, maxKeys } = this.c;
    const counters = recordCounters(ctx);
    const out = ctx.output;
    if (this.passesThrough(ctx.tdd)) {
      await forEachInputBatch(ctx, (records) => {
        for (let i = 0; i < records.length; i++) out.emit(records[i]);
        counters.in.add(records.length);
        counters.out.add(records.length);
      });
      await out.finish();
      return;
    }
    const sums = new Sums();
    const pacer = new SourcePacer(ctx);
    const bad = (r: unknown, why: string): never => {
      throw new TypeError(`${NAME} (vertex ${ctx.tdd.vertexId}): ${why}, got ${describeRecord(r)}`);
    };
    // A combiner's records keep the input's shape (key at keyIndex, sum at valueIndex), as a
    // combinable reduce's output has its input's type: the final sum reads them as it reads the
    // records a combiner with one consumer forwards.
    const width = Math.max(keyIndex, valueIndex) + 1;
    const record = (key: unknown, total: number): unknown[] => {
      if (!partial || (keyIndex === 0 && valueIndex === 1)) return [key, total];
      const r: unknown[] = new Array(width).fill(null);
      r[keyIndex] = key;
      r[valueIndex] = total;
      return r;
    };
    const emitAll = async (): Promise<void> => {
      const { keys, totals } = sums;
      for (let n = 0; n < keys.length; ) {
        out.emit(record(keys[n], totals[n]!));
        if (++n % SOURCE_BATCH === 0) await pacer.afterBatch();
      }
      counters.out.add(keys.length);
    };
    for (let b = await ctx.input.next(); b; b = await ctx.input.next()) {
      const records = b.records;
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
      ctx.input.recycle(b);
      if (partial && sums.size >= maxKeys) {
        await emitAll();
        sums.clear();
      }
      if (!out.isAvailable()) await out.available();
    }
    await emitAll();
    await out.finish();
  }
}

/** `op.keyedSum` {keyIndex = 0, valueIndex = 1, partial?, maxKeys?}: `[key, sum]` per key at the end of input. */
export const keyedSumOperator: InvokableFactory = defineInvokable({
  name: NAME,
  description:
    "Sums field valueIndex (default 1) per field keyIndex (default 0) of array records; emits [key, sum] per key at end of input. With partial: true, a combiner before the exchange that emits partial sums (key and sum at keyIndex and valueIndex) whenever its table reaches maxKeys keys (default 262144) and at end of input. Config {keyIndex?, valueIndex?, partial?, maxKeys?}.",
  kind: "operator",
  keys: KEYS,
  settings: settings,
  create: (s) => new KeyedSum(s),
});
