import { keyGroupRange } from "../state/key-groups.js";
import type { ExecutionJobVertex } from "./execution-job-vertex.js";
import { type IntermediateResult, IntermediateResultPartition, type ConsumedPartitionGroup } from "./intermediate-result.js";

/**
 * Connects a producer and a consumer ExecutionJobVertex through `result` (Flink's
 * EdgeManagerBuildUtil): creates the producer partitions and the consumers' partition groups.
 * ALL_TO_ALL costs O(producers + consumers), never O(producers × consumers).
 */
export function connect(result: IntermediateResult): void {
  const up = result.producer;
  const down = result.consumer;
  if (down.dynamic) connectDynamic(result, up, down);
  else if (result.edge.distribution === "ALL_TO_ALL") connectAllToAll(result, up, down);
  else connectPointwise(result, up, down);
}

/** One partition of `subpartitions` subpartitions per producer subtask (the ALL_TO_ALL producer side). */
function producePartitions(result: IntermediateResult, up: ExecutionJobVertex, subpartitions: number): void {
  for (const ev of up.taskVertices) {
    const p = new IntermediateResultPartition(result, ev.subtaskIndex, ev, 0, subpartitions);
    result.partitions.push(p);
    ev.producedPartitions.push(p);
  }
}

function connectAllToAll(result: IntermediateResult, up: ExecutionJobVertex, down: ExecutionJobVertex): void {
  producePartitions(result, up, down.parallelism);
  const group: ConsumedPartitionGroup = {
    result,
    partitions: result.partitions,
    consumers: down.taskVertices,
    subpartitionFor: (consumer) => consumer,
  };
  result.addGroup(group);
  for (const ev of down.taskVertices) ev.consumedPartitionGroups.push(group);
}

/**
 * ALL_TO_ALL into a consumer whose parallelism is decided once its inputs are complete (Flink's
 * dynamic graph): every producer writes one subpartition per key group of the consumer (its max
 * parallelism), and consumer subtask i reads its key-group range of subpartitions from each.
 */
function connectDynamic(result: IntermediateResult, up: ExecutionJobVertex, down: ExecutionJobVertex): void {
  const n = down.maxParallelism;
  producePartitions(result, up, n);
  const group: ConsumedPartitionGroup = {
    result,
    partitions: result.partitions,
    consumers: down.taskVertices,
    subpartitionFor: (consumer) => keyGroupRange(n, down.parallelism, consumer).start,
    subpartitionRangeFor: (consumer) => {
      const r = keyGroupRange(n, down.parallelism, consumer);
      return [r.start, r.end + 1];
    },
  };
  result.addGroup(group);
  for (const ev of down.taskVertices) ev.consumedPartitionGroups.push(group);
}

function connectPointwise(result: IntermediateResult, up: ExecutionJobVertex, down: ExecutionJobVertex): void {
  const u = up.parallelism;
  const d = down.parallelism;
  if (u >= d) {
    // Each consumer j reads the producers [ceil(j*u/d), ceil((j+1)*u/d)); each producer feeds exactly one consumer.
    for (const ev of up.taskVertices) {
      const consumer = Math.floor((ev.subtaskIndex * d) / u);
      const p = new IntermediateResultPartition(result, ev.subtaskIndex, ev, consumer, 1);
      result.partitions.push(p);
      ev.producedPartitions.push(p);
    }
    for (const ev of down.taskVertices) {
      const start = Math.ceil((ev.subtaskIndex * u) / d);
      const end = Math.ceil(((ev.subtaskIndex + 1) * u) / d);
      const parts = result.partitions.slice(start, end);
      const group: ConsumedPartitionGroup = { result, partitions: parts, consumers: [ev], subpartitionFor: () => 0 };
      result.addGroup(group);
      ev.consumedPartitionGroups.push(group);
    }
  } else {
    // Each producer i feeds the consumers [ceil(i*d/u), ceil((i+1)*d/u)); each consumer reads one producer.
    for (const ev of up.taskVertices) {
      const start = Math.ceil((ev.subtaskIndex * d) / u);
      const end = Math.ceil(((ev.subtaskIndex + 1) * d) / u);
      const p = new IntermediateResultPartition(result, ev.subtaskIndex, ev, start, end - start);
      result.partitions.push(p);
      ev.producedPartitions.push(p);
    }
    for (const ev of down.taskVertices) {
      const producer = Math.floor((ev.subtaskIndex * u) / d);
      const p = result.partitions[producer]!;
      const group: ConsumedPartitionGroup = { result, partitions: [p], consumers: [ev], subpartitionFor: (consumer) => consumer - p.consumerStart };
      result.addGroup(group);
      ev.consumedPartitionGroups.push(group);
    }
  }
}
