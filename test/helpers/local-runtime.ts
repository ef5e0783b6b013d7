/**
 * Runs a JobGraph inside the test process, one thread, with the real runtime parts a TaskExecutor's
 * slot uses — validation and chaining, the ExecutionGraph's deployment descriptors, the
 * NetworkEnvironment (every channel a same-thread link), TaskStateManager (barriers, snapshots,
 * restore), the built-in and stream-API invokables — and the job's user functions handed to the tasks
 * as `ctx.userCode` directly (on a cluster they come from the job's shipped bundle). Checkpoints can be
 * triggered and a new run restored from one, at any parallelism: what a failover or a rescale does.
 * Snapshot bytes are kept in memory.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { EddyError, ErrorCode, ValidationError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/logger.js";
import { waitFor, withTimeout } from "../../src/core/time.js";
import { expandInputGate, type TaskDeploymentDescriptor } from "../../src/deployment/descriptors.js";
import { ExecutionGraph, createTaskDeploymentDescriptor } from "../../src/executiongraph/index.js";
import { chainOperators, validateJobGraph, type JobGraphSpec } from "../../src/jobgraph/index.js";
import { NetworkEnvironment } from "../../src/network/index.js";
import { Subjects } from "../../src/rpc/subjects.js";
import { EndOfInputSignal, USER_FUNCTIONS, type Accumulator, type Invokable, type UserCode } from "../../src/runtime/api.js";
import { builtinRegistry, CHAIN_INVOKABLE } from "../../src/runtime/invokables/index.js";
import { assignState } from "../../src/checkpoint/state-assignment.js";
import type { CompletedCheckpoint, KeyedStateHandle, StateHandle, SubtaskStateSnapshot } from "../../src/checkpoint/types.js";
import { HeapKeyedStateBackend } from "../../src/state/index.js";
import type { SnapshotSource } from "../../src/checkpoint/storage.js";
import { TaskStateManager, type SnapshotStorage } from "../../src/checkpoint/task/index.js";
import { createTaskContext } from "../../actors/task/task-context.js";
import { keySelectorOf } from "../../src/runtime/streaming/stream-operator.js";

/** Snapshot bytes in memory. */
export class MemoryStorage implements SnapshotStorage {
  readonly objects = new Map<string, Uint8Array>();
  async write(name: string, bytes: Uint8Array): Promise<StateHandle> {
    this.objects.set(name, bytes.slice());
    return { object: name, bytes: bytes.length };
  }
  async writeStream(name: string, source: SnapshotSource): Promise<StateHandle> {
    const parts: Uint8Array[] = [];
    for (let p = source.read(1 << 20); p !== null; p = source.read(1 << 20)) parts.push(...p);
    return this.write(name, Buffer.concat(parts));
  }
  async read(h: StateHandle): Promise<Uint8Array> {
    const b = this.objects.get(h.object);
    if (!b) throw new EddyError(ErrorCode.InternalError, `no state object ${h.object}`);
    return b;
  }
}

/** Options of {@link LocalExecution.start}. */
export interface LocalRunOptions {
  /** A NATS connection for the network environment (no data crosses it: every link is local). */
  nc: NatsConnection;
  /** The user functions; default: those `build()` attached to the spec. */
  userFunctions?: Map<string, unknown>;
  /** The subject prefix tasks see (remote actor types are called on `<prefix>.fn.<type>` over `nc`); none by default. */
  prefix?: string;
  /** Chain operators like the JobMaster (default true). */
  chaining?: boolean;
  /** Restore every task from this checkpoint (any parallelism). */
  restoreFrom?: CompletedCheckpoint;
  storage?: MemoryStorage;
}

/** What a finished run leaves. */
export interface LocalResult {
  accumulators: Record<string, number>;
}

interface LocalTask {
  tdd: TaskDeploymentDescriptor;
  state: TaskStateManager;
  operatorIds: string[];
  done: Promise<void>;
  finished: boolean;
}

/** Builds a UserCode over a function map (the other half of `build()`'s USER_FUNCTIONS). */
export function userCodeOf(fns: Map<string, unknown>): UserCode {
  return {
    fn<T>(ref: string): T {
      if (!fns.has(ref)) throw new ValidationError(ErrorCode.UnknownInvokable, `the job has no user function "${ref}"`);
      return fns.get(ref) as T;
    },
  };
}

/** One run of a JobGraph in this thread. */
export class LocalExecution {
  readonly storage: MemoryStorage;
  readonly tasks: LocalTask[] = [];
  private readonly abort = new AbortController();
  private readonly accumulators = new Map<string, number>();
  private readonly acks = new Map<
    number,
    { pending: number; snapshots: Array<{ task: LocalTask; snapshot: SubtaskStateSnapshot }>; resolve(): void; reject(e: unknown): void }
  >();
  private network!: NetworkEnvironment;
  /** Resolves with the accumulators once every task finished; rejects with the first task failure. */
  result!: Promise<LocalResult>;
  /** The connection and prefix tasks call remote actor types with, when given. */
  private remote: { nats: NatsConnection; natsPrefix: string } | undefined;

  private constructor(
    readonly graph: ExecutionGraph,
    storage: MemoryStorage | undefined,
  ) {
    this.storage = storage ?? new MemoryStorage();
  }

  /** Validates, chains and deploys `spec`, and starts every task. */
  static start(spec: JobGraphSpec, opts: LocalRunOptions): LocalExecution {
    const fns = opts.userFunctions ?? (spec as JobGraphSpec & { [USER_FUNCTIONS]?: Map<string, unknown> })[USER_FUNCTIONS] ?? new Map();
    let jobGraph = validateJobGraph(JSON.parse(JSON.stringify(spec)), builtinRegistry);
    if (opts.chaining !== false) jobGraph = chainOperators(jobGraph, builtinRegistry);
    const graph = new ExecutionGraph(jobGraph);
    const run = new LocalExecution(graph, opts.storage);
    if (opts.prefix !== undefined) run.remote = { nats: opts.nc, natsPrefix: opts.prefix };
    run.network = new NetworkEnvironment({
      nc: opts.nc,
      subjects: new Subjects(`local${Date.now()}${Math.random().toString(36).slice(2, 6)}`),
      location: { taskExecutorId: "local", slotIndex: 0 },
    });
    const executions = [...graph.currentExecutions()];
    for (const e of executions) e.slot = { taskExecutorId: "local", slotIndex: 0, allocationId: "0".repeat(32) };
    const userCode = userCodeOf(fns);
    for (const e of executions) {
      const v = e.vertex.jobVertex.jobVertex;
      const operatorIds = v.invokable === CHAIN_INVOKABLE ? (v.config.members as Array<{ id: string }>).map((m) => m.id) : [v.id];
      const restore = opts.restoreFrom
        ? assignState(opts.restoreFrom, operatorIds, e.vertex.subtaskIndex, e.vertex.jobVertex.parallelism, e.vertex.jobVertex.maxParallelism)
        : undefined;
      const tdd = createTaskDeploymentDescriptor(graph, e, restore);
      if (opts.restoreFrom) tdd.checkpointing = true;
      run.tasks.push({ tdd, operatorIds, state: undefined as unknown as TaskStateManager, done: Promise.resolve(), finished: false });
    }
    // Producers first: every output is registered before any input looks for it (all links are local).
    const prepared = run.tasks.map((t) => run.prepare(t, userCode));
    for (const t of run.tasks) t.done = prepared[run.tasks.indexOf(t)]!.then((go) => go());
    run.result = Promise.all(run.tasks.map((t) => t.done)).then(
      () => {
        run.network.close();
        return { accumulators: Object.fromEntries(run.accumulators) };
      },
      (err) => {
        run.abort.abort(err);
        run.network.close();
        throw err;
      },
    );
    run.result.catch(() => undefined); // the test awaits result when it wants it; until then it must not be unhandled
    return run;
  }

  private prepare(t: LocalTask, userCode: UserCode): Promise<() => Promise<void>> {
    const tdd = t.tdd;
    // One abort signal per task, as on a worker (every task's network parts listen to it).
    const taskAbort = new AbortController();
    const runSignal = this.abort.signal;
    runSignal.addEventListener("abort", () => taskAbort.abort(runSignal.reason), { once: true });
    const signal = taskAbort.signal;
    const state = new TaskStateManager(
      tdd,
      this.storage,
      {
        acknowledge: (id, snapshot) => this.onAck(id, t, snapshot),
        decline: (id, reason) =>
          this.acks.get(id)?.reject(new EddyError(ErrorCode.InternalError, `checkpoint ${id} declined by ${tdd.vertexId}#${tdd.subtaskIndex}: ${reason}`)),
        // No final checkpoints here (FLIP-147 is the JobMaster's): tasks finish at their end of input.
        endOfInput: () => undefined,
        finished: () => undefined,
      },
      silentLogger(),
    );
    t.state = state;
    const output = this.network.createOutput(tdd.attemptId, tdd.outputs, {
      bufferTimeoutMs: tdd.bufferTimeoutMs,
      bufferRecords: tdd.bufferRecords,
      signal,
      jobId: tdd.jobId,
      keySelector: (ref) => keySelectorOf(userCode, ref),
    });
    return state.prefetch().then(() => async () => {
      const input = this.network.createInput(tdd.attemptId, tdd.inputs.map(expandInputGate), signal, { jobId: tdd.jobId });
      const factory = builtinRegistry.lookup(tdd.invokable);
      const invokable: Invokable = factory.create(tdd.config);
      const ctx = createTaskContext({
        tdd,
        invokable,
        input,
        output,
        state,
        signal,
        log: silentLogger(),
        accumulator: (name) => this.accumulator(name),
        userCode,
        ...(this.remote ?? {}),
      });
      try {
        if (invokable.restore) await invokable.restore(ctx);
        try {
          await invokable.invoke(ctx);
        } catch (err) {
          if (!(err instanceof EndOfInputSignal)) throw err;
        }
        await output.finish();
        t.finished = true;
      } finally {
        state.taskEnded(t.finished);
      }
    });
  }

  private accumulator(name: string): Accumulator {
    return { add: (n) => this.accumulators.set(name, (this.accumulators.get(name) ?? 0) + n) };
  }

  private onAck(id: number, task: LocalTask, snapshot: SubtaskStateSnapshot): void {
    const p = this.acks.get(id);
    if (!p) return;
    p.snapshots.push({ task, snapshot });
    if (--p.pending === 0) p.resolve();
  }

  /**
   * Triggers checkpoint `id` at every source and resolves with the completed checkpoint once every
   * task acknowledged (tasks are told it completed). Every task must still be running.
   */
  async checkpoint(id: number, timeoutMs = 10_000): Promise<CompletedCheckpoint> {
    if (this.tasks.some((t) => t.finished)) throw new Error("a task already finished: checkpoints need every task running");
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry = { pending: this.tasks.length, snapshots: [] as Array<{ task: LocalTask; snapshot: SubtaskStateSnapshot }>, resolve, reject };
    this.acks.set(id, entry);
    const barrier = { checkpointId: id, timestamp: Date.now(), kind: "CHECKPOINT" as const };
    for (const t of this.tasks) if (t.tdd.inputs.length === 0) t.state.trigger(barrier);
    await withTimeout(done, timeoutMs, `checkpoint ${id}`);
    this.acks.delete(id);
    const vertices: CompletedCheckpoint["vertices"] = {};
    for (const { task, snapshot } of entry.snapshots) {
      for (const opId of task.operatorIds) {
        const v = (vertices[opId] ??= { parallelism: task.tdd.parallelism, maxParallelism: task.tdd.maxParallelism, subtasks: [] });
        v.subtasks[task.tdd.subtaskIndex] = snapshot;
      }
    }
    for (const t of this.tasks) await t.state.notifyComplete(id);
    return {
      jobId: this.graph.jobId,
      checkpointId: id,
      kind: "CHECKPOINT",
      timestamp: barrier.timestamp,
      completedAt: Date.now(),
      formatVersion: 1,
      vertices,
      bytes: 0,
    };
  }

  /**
   * Resolves once accumulator `name` (a source's `<uid>.records-out`, say) reached `atLeast`. With a
   * rate-limited source, a checkpoint taken then is mid-stream by construction: the source has started
   * and cannot have finished.
   */
  async accumulatorReaches(name: string, atLeast: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(() => (this.accumulators.get(name) ?? 0) >= atLeast || undefined, timeoutMs, `${name} >= ${atLeast}`, 5);
  }

  /** Cancels every task (as a failure would) and waits until they stopped. */
  async cancel(): Promise<void> {
    this.abort.abort(new EddyError(ErrorCode.Shutdown, "local execution canceled"));
    await this.result.catch(() => undefined); // canceled: it fails with the abort reason, by design
  }
}

/** Runs `spec` to the end in this thread; resolves with its accumulators. */
export async function runLocally(spec: JobGraphSpec, opts: LocalRunOptions, timeoutMs = 60_000): Promise<LocalResult> {
  const run = LocalExecution.start(spec, opts);
  try {
    return await withTimeout(run.result, timeoutMs, `local run of ${spec.name}`);
  } finally {
    await run.cancel();
  }
}

/**
 * The keyed state operator `uid` had at checkpoint `cp`: one heap backend per subtask that held keys,
 * restored from its snapshot, with the snapshot's handle (to read a test's rewrite back in).
 */
export async function keyedStateAt(
  cp: CompletedCheckpoint,
  storage: MemoryStorage,
  uid: string,
): Promise<Array<{ handle: KeyedStateHandle; backend: HeapKeyedStateBackend }>> {
  const v = cp.vertices[uid];
  if (!v) throw new Error(`operator ${uid} is not in checkpoint ${cp.checkpointId}`);
  const out: Array<{ handle: KeyedStateHandle; backend: HeapKeyedStateBackend }> = [];
  for (const s of v.subtasks) {
    const handle = s.operators[uid]?.keyed;
    if (!handle) continue; // a subtask without keys
    const backend = new HeapKeyedStateBackend({ maxParallelism: handle.maxParallelism, keyGroupRange: handle.keyGroupRange });
    backend.restore([await storage.read(handle)]);
    out.push({ handle, backend });
  }
  return out;
}
