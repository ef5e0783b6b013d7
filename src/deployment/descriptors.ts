/**
 * What a JobMaster sends a TaskExecutor to run one subtask (Flink's TaskDeploymentDescriptor),
 * and the descriptors of its output partitions and input gates.
 */
import type { PartitionerType, ResultPartitionType } from "../jobgraph/types.js";
import type { KeyedStateHandle, OperatorStateHandle } from "../state/handles.js";

/** Where a producer runs: its TaskExecutor and the slot (worker thread) inside it. */
export interface TaskLocation {
  taskExecutorId: string;
  slotIndex: number;
}

/** One output of a task: the partition it produces for one consumer vertex. */
export interface ResultPartitionDeploymentDescriptor {
  /** IntermediateDataSet / IntermediateResult id. */
  resultId: string;
  /** Index of this producer subtask's partition within the result. */
  partitionIndex: number;
  /** One subpartition per consumer subtask that reads from this partition. */
  numSubpartitions: number;
  partitioner: PartitionerType;
  /** Key selector for `hash` (index or field name; absent: whole record). */
  key?: number | string;
  /** For `hash`, instead of `key`: the ref of the job's key selector (resolved in the producer's user code). */
  keySelector?: string;
  /** The producer's side output this partition carries (1-based); absent: its main output. */
  output?: number;
  /** Consumer max parallelism (key groups) for `hash`. */
  maxParallelism: number;
  /** Consumer parallelism (for `hash`: operator index from key group). */
  consumerParallelism: number;
  /** PIPELINED: streamed to running consumers; BLOCKING: kept complete (in JetStream) for consumers that start later. */
  partitionType: ResultPartitionType;
}

/** One input channel: one subpartition of one producer partition. */
export interface InputChannelDescriptor {
  producerAttemptId: string;
  partitionIndex: number;
  subpartitionIndex: number;
  location: TaskLocation;
}

/** One input of a task: all channels that read one IntermediateResult. */
export interface InputGateDeploymentDescriptor {
  resultId: string;
  /** How the producers keep this result (see {@link ResultPartitionDeploymentDescriptor.partitionType}). */
  partitionType: ResultPartitionType;
  channels: InputChannelDescriptor[];
}

/** One producer partition a consumer reads (the channel's subpartition comes from the gate). */
export interface ProducerDescriptor {
  producerAttemptId: string;
  partitionIndex: number;
  location: TaskLocation;
}

/**
 * One input of a task on the wire, compact (Flink's InputGateDeploymentDescriptor with its
 * shuffle descriptors): the producers of one ConsumedPartitionGroup — for ALL_TO_ALL the same
 * array is shared by every consumer's descriptor, so building all descriptors is linear, not
 * quadratic — and the subpartition read from each (one number for all, or one per producer).
 * {@link expandInputGate} turns it into channels for the network layer.
 */
export interface CompactInputGateDescriptor {
  resultId: string;
  partitionType: ResultPartitionType;
  producers: readonly ProducerDescriptor[];
  subpartitions: number | readonly number[];
  /** Instead of one subpartition per producer: the range `[start, end)` read from every producer (adaptive batch consumers). */
  subpartitionRange?: readonly [number, number];
}

/** The channels of a compact gate descriptor. */
export function expandInputGate(g: CompactInputGateDescriptor): InputGateDeploymentDescriptor {
  const sub = g.subpartitions;
  const range = g.subpartitionRange;
  if (range) {
    const channels: InputChannelDescriptor[] = [];
    for (const p of g.producers)
      for (let i = range[0]; i < range[1]; i++)
        channels.push({ producerAttemptId: p.producerAttemptId, partitionIndex: p.partitionIndex, subpartitionIndex: i, location: p.location });
    return { resultId: g.resultId, partitionType: g.partitionType, channels };
  }
  return {
    resultId: g.resultId,
    partitionType: g.partitionType,
    channels: g.producers.map((p, k) => ({
      producerAttemptId: p.producerAttemptId,
      partitionIndex: p.partitionIndex,
      subpartitionIndex: typeof sub === "number" ? sub : sub[k]!,
      location: p.location,
    })),
  };
}

/** The state a task starts from (Flink's JobManagerTaskRestore): per operator, the handles to read. */
export interface TaskRestore {
  checkpointId: number;
  /** Per operator (chain member vertex id): keyed handles whose key groups overlap this subtask's, and every old subtask's operator state (in subtask order). */
  operators: Record<string, { keyed: KeyedStateHandle[]; operator: OperatorStateHandle[] }>;
  /**
   * Every operator of this subtask had finished in that checkpoint (Flink's FINISHED_ON_RESTORE,
   * FLIP-147): the task does not run them again; it ends its outputs at once and finishes.
   */
  finished?: boolean;
}

/**
 * The job's code, for a job that ships a bundle (Flink's user jar and class path in the TDD): the
 * task loads the bundle and runs the job's main again with the recorded arguments to get the
 * job's functions and custom invokables.
 */
export interface UserCodeDescriptor {
  /** The bundle (SHA-256 hex id and size) in the `<prefix>_bundles` Object Store bucket. */
  bundle: { id: string; size: number };
  /** The arguments main was called with (JobGraph `config.args`). */
  args: string[];
  /** The `--parallelism` main was called with (JobGraph `config.parallelism`), when given. */
  parallelism?: number;
}

/** Everything a TaskExecutor needs to start one Execution attempt. */
export interface TaskDeploymentDescriptor {
  jobId: string;
  jobName: string;
  vertexId: string;
  vertexName: string;
  attemptId: string;
  attemptNumber: number;
  subtaskIndex: number;
  parallelism: number;
  maxParallelism: number;
  invokable: string;
  config: Record<string, unknown>;
  /** Slot allocation this task runs in. */
  allocationId: string;
  /** Job-wide network settings. */
  bufferTimeoutMs: number;
  bufferRecords: number;
  outputs: ResultPartitionDeploymentDescriptor[];
  inputs: CompactInputGateDescriptor[];
  /** True when the job checkpoints. */
  checkpointing?: boolean;
  /** Where to start from (the latest checkpoint or a savepoint); absent: empty state. */
  restore?: TaskRestore;
  /** The job's code; absent for jobs of built-in invokables only. */
  userCode?: UserCodeDescriptor;
}
