import type {
  CompactInputGateDescriptor,
  ProducerDescriptor,
  ResultPartitionDeploymentDescriptor,
  TaskDeploymentDescriptor,
  TaskRestore,
  UserCodeDescriptor,
} from "../deployment/descriptors.js";
import type { ConsumedPartitionGroup } from "./intermediate-result.js";
import type { ExecutionGraph } from "./execution-graph.js";
import type { Execution } from "./execution.js";

/**
 * Builds the TaskDeploymentDescriptor of `execution` (Flink's TaskDeploymentDescriptorFactory).
 * Every producer it reads must already have a slot: the scheduler assigns a whole pipelined
 * region's slots before it deploys any of its tasks.
 */
export function createTaskDeploymentDescriptor(graph: ExecutionGraph, execution: Execution, restore?: TaskRestore): TaskDeploymentDescriptor {
  const jobGraph = graph.jobGraph;
  const ev = execution.vertex;
  const ejv = ev.jobVertex;
  if (!execution.slot) throw new Error(`${execution} has no slot`);
  const outputs: ResultPartitionDeploymentDescriptor[] = ev.producedPartitions.map((p) => {
    const consumer = p.result.consumer;
    const d: ResultPartitionDeploymentDescriptor = {
      resultId: p.result.id,
      partitionIndex: p.partitionIndex,
      numSubpartitions: p.numSubpartitions,
      partitioner: p.result.edge.partitioner,
      maxParallelism: consumer.maxParallelism,
      // One subpartition per key group when the consumer's parallelism is decided later.
      consumerParallelism:
        p.numSubpartitions === consumer.maxParallelism && p.result.groups[0]?.subpartitionRangeFor ? consumer.maxParallelism : consumer.parallelism,
      partitionType: p.result.resultPartitionType,
    };
    if (p.result.edge.key !== undefined) d.key = p.result.edge.key;
    if (p.result.edge.keySelector !== undefined) d.keySelector = p.result.edge.keySelector;
    if (p.result.edge.output !== undefined) d.output = p.result.edge.output;
    return d;
  });
  const inputs: CompactInputGateDescriptor[] = ev.consumedPartitionGroups.map((g) => ({
    resultId: g.result.id,
    partitionType: g.result.resultPartitionType,
    producers: producersOf(g, execution, graph.version),
    subpartitions:
      g.partitions.length === 1 || g.result.edge.distribution === "ALL_TO_ALL"
        ? g.subpartitionFor(ev.subtaskIndex, 0)
        : g.partitions.map((_, k) => g.subpartitionFor(ev.subtaskIndex, k)),
    ...(g.subpartitionRangeFor ? { subpartitionRange: g.subpartitionRangeFor(ev.subtaskIndex) } : {}),
  }));
  return {
    jobId: jobGraph.jobId,
    jobName: jobGraph.name,
    vertexId: ejv.id,
    vertexName: ejv.name,
    attemptId: execution.attemptId,
    attemptNumber: execution.attemptNumber,
    subtaskIndex: ev.subtaskIndex,
    parallelism: ejv.parallelism,
    maxParallelism: ejv.maxParallelism,
    invokable: ejv.jobVertex.invokable,
    config: ejv.jobVertex.config,
    allocationId: execution.slot.allocationId,
    bufferTimeoutMs: jobGraph.config.bufferTimeoutMs,
    bufferRecords: jobGraph.config.bufferRecords,
    outputs,
    inputs,
    ...(jobGraph.config.checkpointing ? { checkpointing: true } : {}),
    ...(restore ? { restore } : {}),
    ...(jobGraph.bundle ? { userCode: userCodeOf(jobGraph) } : {}),
  };
}

/** The user-code part of every task's descriptor (one object per job graph, shared by its TDDs). */
const userCodeCache = new WeakMap<object, UserCodeDescriptor>();

function userCodeOf(jobGraph: ExecutionGraph["jobGraph"]): UserCodeDescriptor {
  let d = userCodeCache.get(jobGraph);
  if (!d) {
    const b = jobGraph.bundle!;
    d = { bundle: { id: b.id, size: b.size }, args: [...(jobGraph.config.args ?? [])] };
    if (jobGraph.config.parallelism !== undefined) d.parallelism = jobGraph.config.parallelism;
    userCodeCache.set(jobGraph, d);
  }
  return d;
}

/**
 * The producers of a partition group, built once per group and graph version and shared by every
 * consumer's descriptor (a restart creates new attempts, which bumps the version and rebuilds it).
 */
const producerCache = new WeakMap<ConsumedPartitionGroup, { version: number; producers: ProducerDescriptor[] }>();

function producersOf(g: ConsumedPartitionGroup, consumer: Execution, version: number): readonly ProducerDescriptor[] {
  const cached = producerCache.get(g);
  if (cached && cached.version === version) return cached.producers;
  const producers = g.partitions.map((p) => {
    const producer = p.producer.currentExecution;
    if (!producer.slot) throw new Error(`producer ${producer} of ${consumer} has no slot`);
    return {
      producerAttemptId: producer.attemptId,
      partitionIndex: p.partitionIndex,
      location: { taskExecutorId: producer.slot.taskExecutorId, slotIndex: producer.slot.slotIndex },
    };
  });
  producerCache.set(g, { version, producers });
  return producers;
}
