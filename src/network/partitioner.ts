/**
 * Partitioners: pick the subpartition (consumer subtask) of each record. Synchronous, no allocation
 * per record. `select` returns a subpartition index, or {@link BROADCAST} for every subpartition.
 */
import type { PartitionerType } from "../jobgraph/types.js";
import { EddyError, ErrorCode } from "../core/errors.js";
import { keyHash, murmurHash } from "../state/key-groups.js";

/** Returned by {@link Partitioner.select} when a record goes to every subpartition. */
export const BROADCAST = -1;

/** Chooses the subpartition of a record. */
export interface Partitioner {
  readonly type: PartitionerType;
  /** Subpartition index in `[0, numSubpartitions)`, or {@link BROADCAST}. */
  select(record: unknown): number;
}

/**
 * One subpartition: every record goes there, whatever the edge's partitioner (`type`); a hash edge
 * to one consumer subtask needs no key hash (the consumer's key groups are all of them).
 */
export class SinglePartitioner implements Partitioner {
  constructor(readonly type: PartitionerType) {}
  select(): number {
    return 0;
  }
}

/** Everything sends to subpartition 0 (one-to-one connection). */
export class ForwardPartitioner implements Partitioner {
  readonly type = "forward" as const;
  select(): number {
    return 0;
  }
}

/** Round robin over the subpartitions, starting at `start`. */
export class RoundRobinPartitioner implements Partitioner {
  private next: number;
  constructor(
    readonly type: "rescale" | "rebalance",
    private readonly n: number,
    start = 0,
  ) {
    this.next = start % n;
  }
  select(): number {
    const i = this.next;
    this.next = i + 1 === this.n ? 0 : i + 1;
    return i;
  }
}

/** Every record to every subpartition. */
export class BroadcastPartitioner implements Partitioner {
  readonly type = "broadcast" as const;
  select(): number {
    return BROADCAST;
  }
}

/** How a key is taken from a record: array index, object field, a function (the job's key selector), or the whole record. */
export type KeySelector = number | string | ((record: unknown) => unknown) | undefined;

/**
 * Key groups: key → `murmurHash(keyHash(key)) % maxParallelism` → consumer subtask
 * `keyGroup * consumerParallelism / maxParallelism` (the subpartition index). The subtask of every key
 * group is computed once, into a table; an array record's key at an index (the common keyBy's) takes
 * a path of its own before the generic one.
 */
export class HashPartitioner implements Partitioner {
  readonly type = "hash" as const;
  private readonly subtaskOf: Int32Array;
  /** The key's index in array records, or -1 when the key is a field name or the whole record. */
  private readonly index: number;
  constructor(
    private readonly key: KeySelector,
    private readonly maxParallelism: number,
    consumerParallelism: number,
  ) {
    this.subtaskOf = new Int32Array(maxParallelism);
    for (let kg = 0; kg < maxParallelism; kg++) this.subtaskOf[kg] = Math.floor((kg * consumerParallelism) / maxParallelism);
    this.index = typeof key === "number" ? key : -1;
  }
  select(record: unknown): number {
    let k: unknown;
    const key = this.key;
    if (this.index >= 0 && Array.isArray(record)) k = record[this.index];
    else if (typeof key === "function") k = key(record);
    else k = key === undefined || record === null || typeof record !== "object" ? record : (record as Record<string | number, unknown>)[key];
    return this.subtaskOf[murmurHash(keyHash(k)) % this.maxParallelism]!;
  }
}

/** Parameters of {@link createPartitioner}. */
export interface PartitionerSpec {
  partitioner: PartitionerType;
  numSubpartitions: number;
  /** Index of the producing subtask's partition (rebalance starts there). */
  partitionIndex: number;
  key?: KeySelector;
  maxParallelism: number;
  consumerParallelism: number;
}

/** The partitioner of a result partition. `hash` needs `numSubpartitions === consumerParallelism`. */
export function createPartitioner(spec: PartitionerSpec): Partitioner {
  const p = partitionerOf(spec);
  return spec.numSubpartitions === 1 && p.type !== "broadcast" ? new SinglePartitioner(p.type) : p;
}

function partitionerOf(spec: PartitionerSpec): Partitioner {
  const n = spec.numSubpartitions;
  if (!(n >= 1)) throw new EddyError(ErrorCode.InvalidParallelism, `a result partition needs at least one subpartition, got ${n}`);
  switch (spec.partitioner) {
    case "forward":
      return new ForwardPartitioner();
    case "rescale":
      return new RoundRobinPartitioner("rescale", n, 0);
    case "rebalance":
      return new RoundRobinPartitioner("rebalance", n, spec.partitionIndex);
    case "broadcast":
      return new BroadcastPartitioner();
    case "hash":
      if (spec.consumerParallelism !== n || !(spec.maxParallelism >= n)) {
        throw new EddyError(
          ErrorCode.InvalidParallelism,
          `hash partitioning needs one subpartition per consumer subtask and maxParallelism >= parallelism (subpartitions ${n}, consumer parallelism ${spec.consumerParallelism}, max parallelism ${spec.maxParallelism})`,
        );
      }
      return new HashPartitioner(spec.key, spec.maxParallelism, spec.consumerParallelism);
    default:
      throw new EddyError(ErrorCode.InvalidJobGraph, `unknown partitioner ${String(spec.partitioner)}`);
  }
}
