/**
 * The task-side API every invokable is written against (Flink's TaskInvokable and its
 * environment). Built-in invokables and the SDK's operators both stand on it.
 */
import type { Logger } from "../core/logger.js";
import type { TaskDeploymentDescriptor } from "../deployment/descriptors.js";

/** A batch of records that arrived in one network buffer on one input channel. */
export interface InputBatch {
  /** Index of the input gate (one per consumed IntermediateResult, in TDD order). */
  gate: number;
  /** Channel index within the gate. */
  channel: number;
  records: unknown[];
}

/** All inputs of a task, merged. Awaited per buffer, never per record. */
export interface RecordInput {
  /** The next batch; `null` once every channel of every gate has ended. Rejects when the task is canceled. */
  next(): Promise<InputBatch | null>;
  /** Hands the batch's buffer back (returns credit to its producer). Call once per batch, after processing. */
  recycle(batch: InputBatch): void;
}

/** All outputs of a task: each emitted record goes to every output partition, routed by its partitioner. */
export interface RecordOutput {
  /** Emits one record; synchronous, never awaits. */
  emit(record: unknown): void;
  /** False when a subpartition's backlog is full: the task should `await available()` before more work. */
  isAvailable(): boolean;
  /** Resolves when `isAvailable()` is true again (or the task is canceled). */
  available(): Promise<void>;
  /** Sends partially filled buffers now. */
  flush(): void;
  /** End of data: flushes, sends end-of-partition on every subpartition, resolves once all is handed to consumers. */
  finish(): Promise<void>;
}

/** A named counter reported in the JobResult's accumulators (summed over subtasks). */
export interface Accumulator {
  add(n: number): void;
}

/** What a running invokable sees of its task. */
export interface TaskContext {
  readonly tdd: TaskDeploymentDescriptor;
  readonly input: RecordInput;
  readonly output: RecordOutput;
  /** Aborted when the task is canceled; invokables check it between batches. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  accumulator(name: string): Accumulator;
  /** Lets timers and I/O run (call between batches in long synchronous loops). */
  yield(): Promise<void>;
}

/** The code a task runs: first `restore` (state), then `invoke` (the work). */
export interface Invokable {
  restore?(ctx: TaskContext): Promise<void>;
  invoke(ctx: TaskContext): Promise<void>;
}

/** What the registry knows of an invokable. */
export interface InvokableFactory {
  readonly name: string;
  /** One line for the README and error messages. */
  readonly description: string;
  /** `source`: no inputs; `operator`: one or more inputs and outputs; `sink`: inputs, no outputs. */
  readonly kind: "source" | "operator" | "sink";
  /** Checks the vertex config; throws a ValidationError (code InvalidJobGraph) saying what to fix. */
  validate(config: Record<string, unknown>, vertexId: string): void;
  create(config: Record<string, unknown>): Invokable;
}
