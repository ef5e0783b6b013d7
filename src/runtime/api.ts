/**
 * The task-side API every invokable is written against (Flink's TaskInvokable and its
 * environment). Built-in invokables and the SDK's operators both stand on it.
 */
import type { Logger } from "../core/logger.js";
import type { IterationEnd } from "../jobgraph/index.js";
import type { TaskDeploymentDescriptor } from "../deployment/descriptors.js";
import type { KeyedStateBackend, OperatorStateBackend } from "../state/api.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type { CheckpointBarrier, InputBatch, InputEvent, StreamElement } from "../core/stream-events.js";

// The stream's events (barriers, watermarks, input events) are shared with the network stack.
export {
  EndOfInputSignal,
  MAX_WATERMARK,
  MIN_WATERMARK,
  isWatermarkEvent,
  isInputBatch,
  isBarrierEvent,
  isCheckpointAbortEvent,
  type CheckpointBarrier,
  type BarrierKind,
  type BarrierEvent,
  type CheckpointAbortReason,
  type CheckpointAbortEvent,
  type WatermarkEvent,
  type InputBatch,
  type InputEvent,
  type StreamElement,
} from "../core/stream-events.js";

/** All inputs of a task, merged. Awaited per buffer, never per record. */
export interface RecordInput {
  /**
   * The next batch; `null` once every channel of every gate has ended. Rejects when the task is canceled.
   * Inputs that carry barriers align them here exactly as in {@link nextEvent} and then drop the
   * barrier and abort events: a task that reads with `next()` is never checkpointed (wrap the input
   * with `barrierForwardingInput` from src/network to snapshot and forward barriers instead).
   */
  next(): Promise<InputBatch | null>;
  /** Hands the batch's buffer back (returns credit to its producer). Call once per batch, after processing. */
  recycle(batch: InputBatch): void;
  /**
   * The next batch or watermark, checkpoint barriers handled (as `next()`), for operators that work in
   * event time: the operator forwards watermarks itself (`output.emitWatermark`). The last element
   * before `null` is a `{watermark: MAX_WATERMARK}`. Present on the inputs of bound operators
   * (`TaskContext.bindOperator`); `next()` on those inputs forwards every finite watermark to the
   * operator's output by itself, so operators that ignore event time keep it flowing.
   */
  nextElement?(): Promise<StreamElement | null>;
  /**
   * As {@link nextElement}, but a batch keeps the watermarks that come between its records
   * (`InputBatch.watermarks`): one element per buffer however many watermarks it holds, where
   * `nextElement()` returns the records between two watermarks and each watermark one by one. The
   * reader processes the records and watermarks in their order. The stream API's element loop reads this.
   */
  nextMarkedElement?(): Promise<StreamElement | null>;
  /**
   * The next batch or checkpoint event (exactly-once aligned barriers over all channels of all gates),
   * a batch with the input's watermarks between its records (`InputBatch.watermarks`), or a watermark
   * (an input's watermark can also advance when a channel ends); `null` once every channel has ended.
   * Absent on inputs that never carry barriers.
   */
  nextEvent?(): Promise<InputEvent | null>;
  /**
   * The runtime gave up checkpoint `checkpointId` (declined, timed out): channels held for it are
   * released, and its barriers (and older ones) are ignored from now on. True when an alignment was released.
   */
  abortCheckpoint?(checkpointId: number): boolean;
}

/** A {@link RecordInput} that carries checkpoint barriers (the network input, a chain handoff). */
export interface CheckpointableInput extends RecordInput {
  nextEvent(): Promise<InputEvent | null>;
  abortCheckpoint(checkpointId: number): boolean;
}

/** All outputs of a task: each emitted record goes to every output partition, routed by its partitioner. */
export interface RecordOutput {
  /** Emits one record to the main output; synchronous, never awaits. */
  emit(record: unknown): void;
  /**
   * Emits one record to side output `output` (1-based, the edges whose `output` it is; 0: the main
   * output); dropped when no edge carries that output. Absent on outputs without side outputs (a
   * chain's handoff between members).
   */
  emitTo?(output: number, record: unknown): void;
  /** False when a subpartition's backlog is full: the task should `await available()` before more work. */
  isAvailable(): boolean;
  /** Resolves when `isAvailable()` is true again (or the task is canceled). */
  available(): Promise<void>;
  /** Sends partially filled buffers now. */
  flush(): void;
  /** End of data: flushes, sends end-of-partition on every subpartition, resolves once all is handed to consumers. */
  finish(): Promise<void>;
  /**
   * Flushes every subpartition's partial buffer, then appends `barrier` in-band to every subpartition
   * of every PIPELINED output (after all records emitted so far, before all later ones). Synchronous
   * like `emit`: the links deliver it in order as credit allows, also to consumers that connect later.
   * Throws after `finish()`. Absent on outputs that cannot carry barriers.
   */
  broadcastBarrier?(barrier: CheckpointBarrier): void;
  /**
   * Appends a cancel marker for `checkpointId` in-band to every PIPELINED subpartition (Flink's
   * CancelCheckpointMarker): consumers aligning that checkpoint abort it instead of waiting.
   */
  broadcastCancelMarker?(checkpointId: number): void;
  /**
   * Appends an event-time watermark in-band to every PIPELINED subpartition, after every record emitted
   * so far (a finite number; the end of input stands for MAX_WATERMARK by itself). Absent on outputs
   * that do not carry watermarks.
   */
  emitWatermark?(watermark: number): void;
}

/** A {@link RecordOutput} that carries checkpoint barriers (the network output, a chain handoff). */
export interface CheckpointableOutput extends RecordOutput {
  broadcastBarrier(barrier: CheckpointBarrier): void;
  broadcastCancelMarker(checkpointId: number): void;
}

/** What {@link TaskContext.bindOperator} gives one operator. */
export interface OperatorBinding {
  keyedState: KeyedStateBackend;
  operatorState: OperatorStateBackend;
  input: RecordInput;
  yield(): Promise<void>;
}

/** A named counter reported in the JobResult's accumulators (summed over subtasks). */
export interface Accumulator {
  add(n: number): void;
}

/**
 * The key under which a built JobGraph carries its user functions: `build()` of the stream API attaches
 * a `Map<string, unknown>` (function ref -> function) to the returned spec under this symbol. JSON
 * ignores symbol keys, so the wire JobGraph never holds code; TaskExecutors get the functions by
 * loading the job's bundle and running its main again (see docs/writing-jobs.md, "User code").
 */
export const USER_FUNCTIONS: unique symbol = Symbol.for("eddy.userFunctions") as never;

/** The user code of a task's job, loaded from the job's bundle (absent for jobs of built-ins only). */
export interface UserCode {
  /** The function the job's builder registered under `ref`; throws a ValidationError (UnknownInvokable) when absent. */
  fn<T = unknown>(ref: string): T;
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
  /**
   * Keyed state of this operator (Flink's keyed state backend): set the current key, then read and
   * write state for it. Snapshotted at every checkpoint and restored (and redistributed by key
   * group on rescaling) before `restore` is called. Only for operators fed by a `hash` edge.
   */
  readonly keyedState: KeyedStateBackend;
  /** Operator state of this subtask: named lists, redistributed on rescaling (even-split or union). */
  readonly operatorState: OperatorStateBackend;
  /** True when the job checkpoints (sinks then commit per checkpoint). */
  readonly checkpointing: boolean;
  /** The worker's NATS connection (for sources and sinks that talk to NATS); absent in unit harnesses. */
  readonly nats?: NatsConnection;
  /** The cluster's subject prefix (with `nats`), for subjects of the job's own such as remote actor functions'. */
  readonly natsPrefix?: string;
  /**
   * Binds one operator of this task (the task's invokable, or a chain member) to the checkpointing
   * runtime: its state backends, its input with barriers handled (a barrier snapshots the operator
   * then goes on to `io.output`), and its yield (where a source takes pending checkpoints).
   */
  bindOperator(id: string, invokable: Invokable, io: { input: RecordInput; output: RecordOutput; ctx: () => TaskContext }): OperatorBinding;
  /** Lets timers and I/O run (call between batches in long synchronous loops). */
  yield(): Promise<void>;
  /** The job's user code (the stream API's functions), when the job ships a bundle. */
  readonly userCode?: UserCode;
}

/**
 * The code a task runs: first `restore` (state is already loaded into `ctx.keyedState` and
 * `ctx.operatorState`), then `invoke` (the work). With checkpointing, `snapshotState` runs at each
 * checkpoint at a consistent point (between batches, after every record before the barrier) and
 * must be synchronous: it writes what the invokable holds outside the backends (source positions,
 * pending files) into operator state. `notifyCheckpointComplete` follows a completed checkpoint
 * (sinks commit there); `notifyCheckpointAborted` an aborted one.
 */
export interface Invokable {
  restore?(ctx: TaskContext): Promise<void>;
  invoke(ctx: TaskContext): Promise<void>;
  /** `barrier` says what the snapshot is for (a savepoint; `stop`: a stop-with-savepoint, after which nothing is to be drained). */
  snapshotState?(ctx: TaskContext, checkpointId: number, barrier?: CheckpointBarrier): void;
  notifyCheckpointComplete?(ctx: TaskContext, checkpointId: number): Promise<void> | void;
  notifyCheckpointAborted?(ctx: TaskContext, checkpointId: number): void;
  /**
   * True when, deployed as `tdd` says (a chain member's outputs are empty unless it is the tail), it
   * would forward every record unchanged and keep no state: a chain then runs without it (a combiner
   * whose subtask is the only producer for the only consumer).
   */
  passesThrough?(tdd: TaskDeploymentDescriptor): boolean;
}

/** What the registry knows of an invokable. */
export interface InvokableFactory {
  readonly name: string;
  /** One line for the docs and error messages. */
  readonly description: string;
  /** `source`: no inputs; `operator`: one or more inputs and outputs; `sink`: inputs, no outputs. */
  readonly kind: "source" | "operator" | "sink";
  /** Checks the vertex config; throws a ValidationError (code InvalidJobGraph) saying what to fix. */
  validate(config: Record<string, unknown>, vertexId: string): void;
  create(config: Record<string, unknown>): Invokable;
  /** For the two ends of an iteration: which end, and the channel a config uses (see IterationEnd). */
  readonly iteration?: IterationEnd;
}
