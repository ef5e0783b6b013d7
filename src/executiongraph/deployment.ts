import type { InputGateDeploymentDescriptor, ResultPartitionDeploymentDescriptor, TaskDeploymentDescriptor } from "../deployment/descriptors.js";
import type { JobGraph } from "../jobgraph/types.js";
import type { Execution } from "./execution.js";

/**
 * Builds the TaskDeploymentDescriptor of `execution` (Flink's TaskDeploymentDescriptorFactory).
 * Every producer it reads must already have a slot: the scheduler assigns a whole pipelined
 * region's slots before it deploys any of its tasks.
 */
export function createTaskDeploymentDescriptor(jobGraph: JobGraph, execution: Execution): TaskDeploymentDescriptor {
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
      consumerParallelism: consumer.parallelism,
      partitionType: p.result.resultPartitionType,
    };
    if (p.result.edge.key !== undefined) d.key = p.result.edge.key;
    return d;
  });
  const inputs: InputGateDeploymentDescriptor[] = ev.consumedPartitionGroups.map((g) => ({
    resultId: g.result.id,
    partitionType: g.result.resultPartitionType,
    channels: g.partitions.map((p, k) => {
      const producer = p.producer.currentExecution;
      if (!producer.slot) throw new Error(`producer ${producer} of ${execution} has no slot`);
      return {
        producerAttemptId: producer.attemptId,
        partitionIndex: p.partitionIndex,
        subpartitionIndex: g.subpartitionFor(ev.subtaskIndex, k),
        location: { taskExecutorId: producer.slot.taskExecutorId, slotIndex: producer.slot.slotIndex },
      };
    }),
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
  };
}
