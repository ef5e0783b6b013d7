/**
 * A task's checkpointing as the Task drives it (TaskStateManager over its parts), with state in
 * memory: where each operator snapshots, what it acknowledges and under which names, restore from
 * those handles, the final checkpoint at the end of input (FLIP-147), stop-with-savepoint, aborts
 * and failed uploads.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { silentLogger } from "../../src/core/logger.js";
import type { TaskDeploymentDescriptor, TaskRestore } from "../../src/deployment/descriptors.js";
import { snapshotObjectName } from "../../src/checkpoint/index.js";
import type { DeclineReason, StateHandle, SubtaskStateSnapshot } from "../../src/checkpoint/types.js";
import type { SnapshotSource } from "../../src/checkpoint/storage.js";
import { TaskStateManager, type CheckpointResponder, type SnapshotStorage } from "../../src/checkpoint/task/index.js";
import {
  EndOfInputSignal,
  type CheckpointBarrier,
  type InputEvent,
  type Invokable,
  type RecordInput,
  type RecordOutput,
  type TaskContext,
} from "../../src/runtime/api.js";
import { MemoryStorage } from "../helpers/local-runtime.js";
import { promiseState } from "../helpers/promise-state.js";

const JOB = "jobTsm";

function descriptor(over: Partial<TaskDeploymentDescriptor> = {}): TaskDeploymentDescriptor {
  return {
    jobId: JOB,
    jobName: "test",
    vertexId: "v",
    vertexName: "v",
    attemptId: "1".repeat(32),
    attemptNumber: 0,
    subtaskIndex: 0,
    parallelism: 1,
    maxParallelism: 128,
    invokable: "test",
    config: {},
    allocationId: "2".repeat(32),
    bufferTimeoutMs: 100,
    bufferRecords: 1024,
    outputs: [],
    inputs: [],
    checkpointing: true,
    ...over,
  };
}

/** A task fed by one input gate (its producers' details do not matter here). */
const withInput = (over: Partial<TaskDeploymentDescriptor> = {}) => descriptor({ inputs: [{}] as unknown as TaskDeploymentDescriptor["inputs"], ...over });

/** What the task told its JobMaster, in order. */
class Recorder implements CheckpointResponder {
  readonly sent: string[] = [];
  readonly acks = new Map<number, SubtaskStateSnapshot>();
  private waiters: Array<() => void> = [];
  acknowledge(id: number, snapshot: SubtaskStateSnapshot): void {
    this.acks.set(id, snapshot);
    this.record(`ack ${id}`);
  }
  decline(id: number, message: string, reason: DeclineReason): void {
    this.record(`decline ${id}: ${message} (${reason})`);
  }
  endOfInput(): void {
    this.record("endOfInput");
  }
  finished(): void {
    this.record("finished");
  }
  /** Resolves once `message` was sent (at once if it was); fails the test after 5 s. */
  async until(message: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!this.sent.some((m) => m.startsWith(message))) {
      if (Date.now() > deadline) assert.fail(`"${message}" was not sent; sent: ${JSON.stringify(this.sent)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
  private record(m: string): void {
    this.sent.push(m);
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A task's TaskStateManager and what it tells its JobMaster. */
function task(tdd: TaskDeploymentDescriptor, storage: SnapshotStorage = new MemoryStorage()): { tsm: TaskStateManager; jm: Recorder } {
  const jm = new Recorder();
  return { tsm: new TaskStateManager(tdd, storage, jm, silentLogger()), jm };
}

/** An operator whose checkpoint calls are recorded. */
function operator(calls: string[], commits = false): Invokable {
  return {
    invoke: async () => undefined,
    snapshotState: (_ctx, id) => void calls.push(`snapshot ${id}`),
    notifyCheckpointAborted: (_ctx, id) => void calls.push(`aborted ${id}`),
    ...(commits ? { notifyCheckpointComplete: (_ctx: TaskContext, id: number) => void calls.push(`commit ${id}`) } : {}),
  };
}

function output(barriers: number[]): RecordOutput {
  return {
    emit: () => undefined,
    isAvailable: () => true,
    available: async () => undefined,
    flush: () => undefined,
    finish: async () => undefined,
    broadcastBarrier: (b) => void barriers.push(b.checkpointId),
  };
}

/** An input that hands out `events` in order, then ends; records which checkpoints it was told to abort. */
function input(events: InputEvent[], aborted: number[] = []): RecordInput {
  return {
    next: async () => assert.fail("read through the barrier-aware input only"),
    nextEvent: async () => events.shift() ?? null,
    recycle: () => undefined,
    abortCheckpoint: (id) => (aborted.push(id), false),
  };
}

const noInput: RecordInput = { next: async () => null, recycle: () => undefined };

function ctxOf(signal: AbortSignal = new AbortController().signal): () => TaskContext {
  return () => ({ signal }) as TaskContext;
}

const checkpoint = (checkpointId: number, kind: CheckpointBarrier["kind"] = "CHECKPOINT"): CheckpointBarrier => ({ checkpointId, timestamp: 0, kind });
const batch = (...records: unknown[]): InputEvent => ({ gate: 0, channel: 0, records });

test("a source snapshots at its next yield after the trigger and acknowledges its state under the checkpoint's names; a new attempt restores it", async () => {
  const storage = new MemoryStorage();
  const calls: string[] = [];
  const barriers: number[] = [];
  const { tsm, jm } = task(descriptor(), storage);
  const src = tsm.bind("src", operator(calls), { input: noInput, output: output(barriers), ctx: ctxOf() });
  src.keyedState.setCurrentKey("k");
  src.keyedState.getValueState<number>("count").update(41);
  src.operatorState.getListState<number>("offsets").add(7);

  tsm.trigger(checkpoint(1));
  assert.deepEqual(calls, [], "not before the source's next yield");
  await src.yield();
  assert.deepEqual(calls, ["snapshot 1"]);
  assert.deepEqual(barriers, [1], "the barrier follows the snapshot");
  await jm.until("ack 1");
  const state = jm.acks.get(1)!.operators.src!;
  assert.equal(state.keyed?.object, snapshotObjectName(JOB, 1, "CHECKPOINT", "src", 0, "keyed"));
  assert.equal(state.operator?.object, snapshotObjectName(JOB, 1, "CHECKPOINT", "src", 0, "operator"));
  assert.deepEqual(state.keyed?.keyGroupRange, { start: 0, end: 127 });

  const restore: TaskRestore = { checkpointId: 1, operators: { src: { keyed: [state.keyed!], operator: [state.operator!] } } };
  const { tsm: again } = task(descriptor({ restore }), storage);
  await again.prefetch();
  const restored = again.bind("src", operator([]), { input: noInput, output: output([]), ctx: ctxOf() });
  restored.keyedState.setCurrentKey("k");
  assert.equal(restored.keyedState.getValueState<number>("count").value(), 41);
  assert.deepEqual(restored.operatorState.getListState<number>("offsets").get(), [7]);
});

test("a newer trigger supersedes a held one, which is declined", async () => {
  const { tsm, jm } = task(descriptor());
  const src = tsm.bind("src", operator([]), { input: noInput, output: output([]), ctx: ctxOf() });
  tsm.trigger(checkpoint(1));
  tsm.trigger(checkpoint(2));
  await src.yield();
  await jm.until("ack 2");
  assert.deepEqual(jm.sent, ["decline 1: superseded by a newer checkpoint (CHECKPOINT_DECLINED_SUBSUMED)", "ack 2"]);
});

test("an operator behind an input snapshots at the in-band barrier; a trigger for it afterwards is ignored", async () => {
  const calls: string[] = [];
  const barriers: number[] = [];
  const { tsm, jm } = task(withInput());
  const op = tsm.bind("map", operator(calls), { input: input([batch(1), { barrier: checkpoint(3) }, batch(2)]), output: output(barriers), ctx: ctxOf() });
  assert.deepEqual((await op.input.next())?.records, [1]);
  assert.deepEqual(calls, []);
  assert.deepEqual((await op.input.next())?.records, [2], "the barrier is taken out of the input");
  assert.deepEqual(calls, ["snapshot 3"]);
  assert.deepEqual(barriers, [3]);
  tsm.trigger(checkpoint(3));
  await jm.until("ack 3");
  assert.equal(await op.input.next(), null);
  assert.deepEqual(calls, ["snapshot 3"], "taken once");
});

test("a committing operator at a clean end of input finishes once its last checkpoint was committed", async () => {
  const calls: string[] = [];
  const { tsm, jm } = task(withInput());
  const sink = tsm.bind("sink", operator(calls, true), { input: input([batch(1), { barrier: checkpoint(1) }]), output: output([]), ctx: ctxOf() });
  while ((await sink.input.next()) !== null);
  await jm.until("ack 1");
  const ended = tsm.endOfInput(new AbortController().signal, false);
  assert.equal(await promiseState(ended), "pending", "checkpoint 1 is not committed yet");
  assert.ok(!jm.sent.includes("endOfInput"), "nothing was read after checkpoint 1: no new one is needed");
  await tsm.notifyComplete(1);
  await ended;
  assert.deepEqual(calls, ["snapshot 1", "commit 1"]);
});

test("a committing operator whose input ends while its last checkpoint's commit runs finishes only after that commit", async () => {
  const { tsm, jm } = task(withInput());
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const sink: Invokable = { invoke: async () => undefined, snapshotState: () => undefined, notifyCheckpointComplete: () => gate };
  const bound = tsm.bind("sink", sink, { input: input([batch(1), { barrier: checkpoint(1) }]), output: output([]), ctx: ctxOf() });
  while ((await bound.input.next()) !== null);
  await jm.until("ack 1");
  const committing = tsm.notifyComplete(1);
  const ended = tsm.endOfInput(new AbortController().signal, false);
  assert.equal(await promiseState(ended), "pending", "checkpoint 1 completed, but its commit still runs");
  assert.ok(!jm.sent.includes("endOfInput"), "the running commit is the final checkpoint's");
  release();
  await committing;
  await ended;
});

test("a committing operator with records after its last checkpoint asks for one, takes it at once and finishes after its commit", async () => {
  const calls: string[] = [];
  const barriers: number[] = [];
  const { tsm, jm } = task(withInput());
  const sink = tsm.bind("sink", operator(calls, true), { input: input([{ barrier: checkpoint(1) }, batch(1)]), output: output(barriers), ctx: ctxOf() });
  while ((await sink.input.next()) !== null);
  const ended = tsm.endOfInput(new AbortController().signal, false);
  await jm.until("endOfInput");
  tsm.trigger(checkpoint(2));
  await jm.until("ack 2");
  assert.deepEqual(barriers, [1], "at the end of input no barrier goes out");
  tsm.notifyAborted(1);
  await tsm.notifyComplete(2);
  await ended;
  await tsm.beforeFinished();
  assert.deepEqual(jm.sent, ["ack 1", "endOfInput", "ack 2", "finished"]);
  assert.deepEqual(calls, ["snapshot 1", "snapshot 2", "aborted 1", "commit 2"]);
});

test("an operator that does not commit on checkpoints finishes at its end of input", async () => {
  const { tsm, jm } = task(withInput());
  const op = tsm.bind("map", operator([]), { input: input([batch(1)]), output: output([]), ctx: ctxOf() });
  while ((await op.input.next()) !== null);
  await tsm.endOfInput(new AbortController().signal, false);
  assert.deepEqual(jm.sent, []);
});

test("stop-with-savepoint: the source waits after the savepoint's barrier and ends once it completed; after an abort it goes on", async () => {
  const { tsm, jm } = task(descriptor());
  const src = tsm.bind("src", operator([]), { input: noInput, output: output([]), ctx: ctxOf() });
  src.operatorState.getListState<number>("offsets").add(1);

  tsm.trigger(checkpoint(1, "SAVEPOINT"), true);
  const aborted = src.yield();
  await jm.until("ack 1");
  assert.equal(await promiseState(aborted), "pending", "held until the savepoint is done");
  tsm.notifyAborted(1);
  await aborted;

  tsm.trigger(checkpoint(2, "SAVEPOINT"), true);
  const stopped = src.yield();
  await jm.until("ack 2");
  assert.equal(jm.acks.get(2)!.operators.src!.operator?.object, snapshotObjectName(JOB, 2, "SAVEPOINT", "src", 0, "operator"));
  assert.equal(await promiseState(stopped), "pending");
  await tsm.notifyComplete(2);
  await assert.rejects(stopped, (e: unknown) => e instanceof EndOfInputSignal);
});

/** Storage whose writes wait until released, or fail. */
class HeldStorage implements SnapshotStorage {
  readonly inner = new MemoryStorage();
  private readonly held: Array<() => void> = [];
  constructor(private readonly failWith?: string) {}
  async write(name: string, bytes: Uint8Array): Promise<StateHandle> {
    await new Promise<void>((r) => this.held.push(r));
    if (this.failWith) throw new Error(this.failWith);
    return this.inner.write(name, bytes);
  }
  writeStream(name: string, source: SnapshotSource): Promise<StateHandle> {
    return this.inner.writeStream(name, source);
  }
  read(handle: StateHandle): Promise<Uint8Array> {
    return this.inner.read(handle);
  }
  release(): void {
    for (const r of this.held.splice(0)) r();
  }
}

test("an aborted checkpoint sends nothing and releases its alignment; the next one is acknowledged", async () => {
  const storage = new HeldStorage();
  const aborts: number[] = [];
  const calls: string[] = [];
  const { tsm, jm } = task(withInput(), storage);
  const op = tsm.bind("map", operator(calls), {
    input: input([{ barrier: checkpoint(1) }, batch(1), { barrier: checkpoint(2) }], aborts),
    output: output([]),
    ctx: ctxOf(),
  });
  op.operatorState.getListState<number>("offsets").add(1);
  assert.deepEqual((await op.input.next())?.records, [1]);
  tsm.notifyAborted(1);
  assert.deepEqual(aborts, [1]);
  storage.release(); // checkpoint 1's upload ends after its abort
  assert.equal(await op.input.next(), null);
  storage.release();
  await jm.until("ack 2");
  await tsm.beforeFinished();
  assert.deepEqual(jm.sent, ["ack 2", "finished"]);
  assert.deepEqual(calls, ["snapshot 1", "aborted 1", "snapshot 2"]);
});

test("a failed upload declines the checkpoint with its reason", async () => {
  const storage = new HeldStorage("the bucket is gone");
  const { tsm, jm } = task(descriptor(), storage);
  const src = tsm.bind("src", operator([]), { input: noInput, output: output([]), ctx: ctxOf() });
  src.operatorState.getListState<number>("offsets").add(1);
  tsm.trigger(checkpoint(1));
  await src.yield();
  const finishing = tsm.beforeFinished();
  assert.equal(await promiseState(finishing), "pending", "the task finishes only after its checkpoints were answered");
  storage.release();
  await finishing;
  assert.deepEqual(jm.sent, ["decline 1: uploading state failed: the bucket is gone (CHECKPOINT_DECLINED)", "finished"]);
});
