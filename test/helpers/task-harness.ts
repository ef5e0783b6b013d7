/**
 * An in-memory TaskContext for unit tests of invokables: input from arrays of batches, output
 * collected in an array, accumulators in a map. Not the network stack.
 */
import { DefaultOperatorStateBackend, HeapKeyedStateBackend, keyGroupRange } from "../../src/state/index.js";
import type { TaskDeploymentDescriptor } from "../../src/deployment/descriptors.js";
import type { InputBatch, InvokableFactory, TaskContext } from "../../src/runtime/api.js";
import { silentLogger } from "../../src/core/logger.js";

export interface HarnessOptions {
  config?: Record<string, unknown>;
  subtaskIndex?: number;
  parallelism?: number;
  attemptNumber?: number;
  vertexId?: string;
  /** Input records: a flat array (cut into batches of `batchSize`) or explicit batches. */
  input?: unknown[];
  inputBatches?: unknown[][];
  batchSize?: number;
  /** After this many batches, `input.next()` rejects with `inputError` (default: an Error "input failed"). */
  failAfterBatches?: number;
  inputError?: Error;
  /** `output.isAvailable()` turns false after this many emits until `available()` is awaited. */
  outputCapacity?: number;
  /** Consumer subtasks of the task's one output (a hash edge's); default: no output partitions in the descriptor. */
  consumers?: number;
}

/** What a run left behind. */
export interface Harness {
  ctx: TaskContext;
  output: unknown[];
  accumulators: Map<string, number>;
  finished: boolean;
  recycled: number;
  /** Times `available()` was awaited. */
  backpressureWaits: number;
  abort(reason?: unknown): void;
}

/** Builds a harness around a fake TaskDeploymentDescriptor. */
export function createHarness(opts: HarnessOptions = {}): Harness {
  const batches: unknown[][] =
    opts.inputBatches ??
    (() => {
      const size = opts.batchSize ?? 100;
      const all = opts.input ?? [];
      const out: unknown[][] = [];
      for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size));
      return out;
    })();
  const controller = new AbortController();
  let next = 0;
  let sinceAvailable = 0;
  const tdd: TaskDeploymentDescriptor = {
    jobId: "0".repeat(32),
    jobName: "test",
    vertexId: opts.vertexId ?? "v",
    vertexName: opts.vertexId ?? "v",
    attemptId: "1".repeat(32),
    attemptNumber: opts.attemptNumber ?? 0,
    subtaskIndex: opts.subtaskIndex ?? 0,
    parallelism: opts.parallelism ?? 1,
    maxParallelism: 128,
    invokable: "test",
    config: opts.config ?? {},
    allocationId: "2".repeat(32),
    bufferTimeoutMs: 100,
    bufferRecords: 1024,
    outputs:
      opts.consumers === undefined
        ? []
        : [
            {
              resultId: "r",
              partitionIndex: opts.subtaskIndex ?? 0,
              numSubpartitions: opts.consumers,
              partitioner: "hash",
              key: 0,
              maxParallelism: 128,
              consumerParallelism: opts.consumers,
              partitionType: "PIPELINED",
            },
          ],
    inputs: [],
  };
  const h: Harness = {
    output: [],
    accumulators: new Map(),
    finished: false,
    recycled: 0,
    backpressureWaits: 0,
    abort: (reason?: unknown) => controller.abort(reason),
    ctx: undefined as unknown as TaskContext,
  };
  h.ctx = {
    tdd,
    signal: controller.signal,
    log: silentLogger(),
    input: {
      async next(): Promise<InputBatch | null> {
        controller.signal.throwIfAborted();
        if (opts.failAfterBatches !== undefined && next >= opts.failAfterBatches) throw opts.inputError ?? new Error("input failed");
        if (next >= batches.length) return null;
        return { gate: 0, channel: 0, records: batches[next++]! };
      },
      recycle() {
        h.recycled++;
      },
    },
    output: {
      emit(record: unknown) {
        if (h.finished) throw new Error("emit after finish");
        h.output.push(record);
        sinceAvailable++;
      },
      isAvailable() {
        return opts.outputCapacity === undefined || sinceAvailable < opts.outputCapacity;
      },
      async available() {
        h.backpressureWaits++;
        await new Promise((r) => setImmediate(r));
        sinceAvailable = 0;
      },
      flush() {},
      async finish() {
        h.finished = true;
      },
    },
    accumulator(name: string) {
      return { add: (n: number) => void h.accumulators.set(name, (h.accumulators.get(name) ?? 0) + n) };
    },
    yield: () => new Promise<void>((r) => setImmediate(r)),
    keyedState: new HeapKeyedStateBackend({ maxParallelism: 128, keyGroupRange: keyGroupRange(128, tdd.parallelism, tdd.subtaskIndex) }),
    operatorState: new DefaultOperatorStateBackend(),
    checkpointing: false,
    // Chain members get state of their own and the task's input as it is (no barriers here).
    bindOperator: (_id, _inv, io) => ({
      keyedState: new HeapKeyedStateBackend({ maxParallelism: 128, keyGroupRange: keyGroupRange(128, tdd.parallelism, tdd.subtaskIndex) }),
      operatorState: new DefaultOperatorStateBackend(),
      input: io.input,
      yield: () => new Promise<void>((r) => setImmediate(r)),
    }),
  };
  return h;
}

/** Validates the config, creates the invokable and runs restore + invoke on a fresh harness. */
export async function runInvokable(factory: InvokableFactory, opts: HarnessOptions = {}): Promise<Harness> {
  const h = createHarness(opts);
  const config = opts.config ?? {};
  factory.validate(config, h.ctx.tdd.vertexId);
  const inv = factory.create(config);
  if (inv.restore) await inv.restore(h.ctx);
  await inv.invoke(h.ctx);
  return h;
}
