import type { JobEdge } from "../jobgraph/types.js";
import type { ExecutionJobVertex } from "./execution-job-vertex.js";
import type { ExecutionVertex } from "./execution-vertex.js";

/** One producer subtask's partition of an IntermediateResult (Flink's IntermediateResultPartition). */
export class IntermediateResultPartition {
  constructor(
    readonly result: IntermediateResult,
    readonly partitionIndex: number,
    readonly producer: ExecutionVertex,
    /** Consumer subtasks it feeds: for ALL_TO_ALL every consumer; for POINTWISE a contiguous range. */
    readonly consumerStart: number,
    readonly numSubpartitions: number,
  ) {}
}

/**
 * The partitions one consumer subtask reads from one result. For ALL_TO_ALL a single group object
 * is shared by every consumer subtask, so the n×n edges are never materialized (Flink's
 * ConsumedPartitionGroup): building and failing over a graph stays near-linear in parallelism.
 */
export interface ConsumedPartitionGroup {
  readonly result: IntermediateResult;
  readonly partitions: readonly IntermediateResultPartition[];
  /** The consumer subtasks that read this group (all of them for ALL_TO_ALL, one for POINTWISE). */
  readonly consumers: readonly ExecutionVertex[];
  /** Subpartition a given consumer subtask reads from `partitions[k]`. */
  subpartitionFor(consumerSubtask: number, k: number): number;
  /**
   * For a consumer whose parallelism is decided at runtime (adaptive batch): the subpartitions
   * `[start, end)` it reads from every partition (its key-group range; producers write one
   * subpartition per key group of the consumer).
   */
  subpartitionRangeFor?(consumerSubtask: number): readonly [number, number];
}

/** The data set one JobEdge carries, partitioned by producer subtask (Flink's IntermediateResult). */
export class IntermediateResult {
  readonly partitions: IntermediateResultPartition[] = [];
  /** The distinct partition groups consumers read (one for ALL_TO_ALL). */
  readonly groups: ConsumedPartitionGroup[] = [];
  /** The groups each partition belongs to, by partition index. */
  readonly groupsOfPartition: ConsumedPartitionGroup[][] = [];

  constructor(
    readonly id: string,
    readonly edge: JobEdge,
    readonly producer: ExecutionJobVertex,
    readonly consumer: ExecutionJobVertex,
  ) {}

  get resultPartitionType() {
    return this.edge.resultPartitionType;
  }

  /** Forgets every partition and group (before the result is connected again). */
  clear(): void {
    this.partitions.length = 0;
    this.groups.length = 0;
    this.groupsOfPartition.length = 0;
  }

  /** Records a group and indexes its partitions. */
  addGroup(g: ConsumedPartitionGroup): void {
    this.groups.push(g);
    for (const p of g.partitions) (this.groupsOfPartition[p.partitionIndex] ??= []).push(g);
  }
}
