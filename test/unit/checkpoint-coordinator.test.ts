/**
 * The CheckpointCoordinator with finished tasks (Flink's FLIP-147): checkpoints go on while some tasks
 * have finished, tasks no barrier can reach any more are triggered directly, a task counts as finished
 * in a pending checkpoint only once it says so itself (after its acknowledgements), and a task at its
 * end of input gets a checkpoint right away.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ExecutionGraph } from "../../src/executiongraph/execution-graph.js";
import type { Execution } from "../../src/executiongraph/execution.js";
import { CheckpointCoordinator } from "../../src/checkpoint/checkpoint-coordinator.js";
import type { CompletedCheckpoint } from "../../src/checkpoint/types.js";
import { silentLogger, type Logger } from "../../src/core/logger.js";
import { pino } from "pino";
import { graph } from "../helpers/graphs.js";

/** A running graph `src -> sink` (rebalance) and a coordinator whose tasks are recorded, not called. */
function setup(
  intervalMs = 3_600_000,
  record: (cp: CompletedCheckpoint) => Promise<void> = async () => undefined,
  maxConcurrent = 1,
  log: Logger = silentLogger(),
  failJob: (reason: string) => void = (reason) => assert.fail(reason),
) {
  const eg = new ExecutionGraph(
    graph(
      [
        { id: "src", parallelism: 1 },
        { id: "sink", parallelism: 1 },
      ],
      [{ source: "src", target: "sink", partitioner: "rebalance" }],
    ),
  );
  if (eg.state === "INITIALIZING") eg.transitionTo("CREATED");
  eg.transitionTo("RUNNING");
  for (const e of eg.currentExecutions()) for (const s of ["SCHEDULED", "DEPLOYING", "INITIALIZING", "RUNNING"] as const) e.transitionTo(s);
  const [src, sink] = [...eg.currentExecutions()] as [Execution, Execution];
  const triggered: Array<{ vertex: string; id: number }> = [];
  const completed: CompletedCheckpoint[] = [];
  const discarded: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let next = 1;
  const coordinator = new CheckpointCoordinator(
    eg,
    { intervalMs, maxConcurrent },
    {
      nextCheckpointId: async () => next++,
      complete: async (cp) => {
        await record(cp);
        completed.push(cp);
      },
      discard: (id) => void discarded.push(id),
      triggerTask: (e, id) => void triggered.push({ vertex: e.vertex.jobVertex.id, id }),
      notifyComplete: () => undefined,
      notifyAborted: () => undefined,
      failJob,
      schedule: (ms, fn) => {
        const t = setTimeout(() => (timers.delete(t), fn()), ms);
        timers.add(t);
        return () => (clearTimeout(t), timers.delete(t));
      },
      operatorIds: (e) => [e.vertex.jobVertex.id],
    },
    log,
    undefined,
  );
  const stop = () => {
    coordinator.stop("test over");
    for (const t of timers) clearTimeout(t);
  };
  return { eg, src, sink, coordinator, triggered, completed, discarded, stop };
}

const tick = () => new Promise((r) => setImmediate(r));

test("a checkpoint after the source finished: the sink is triggered directly and the source recorded as finished", { timeout: 10_000 }, async () => {
  const { src, sink, coordinator, triggered, stop } = setup();
  try {
    src.transitionTo("FINISHED");
    const done = coordinator.trigger("CHECKPOINT");
    await tick();
    assert.deepEqual(triggered, [{ vertex: "sink", id: 1 }], "only the sink, whose producer finished");
    coordinator.acknowledge(sink.attemptId, 1, { operators: { sink: {} } });
    const cp = await done;
    assert.deepEqual(cp.vertices.src?.subtasks[0], { operators: {}, finished: true });
    assert.deepEqual(cp.finishedOperators, ["src"]);
    assert.equal(cp.vertices.sink?.subtasks[0]?.finished, undefined);
  } finally {
    stop();
  }
});

test("a task that finishes while a checkpoint is pending counts as finished only once it says so, after its acknowledgements", {
  timeout: 10_000,
}, async () => {
  const { src, sink, coordinator, triggered, completed, stop } = setup();
  try {
    const done = coordinator.trigger("CHECKPOINT");
    await tick();
    assert.deepEqual(triggered, [{ vertex: "src", id: 1 }]);
    // The source's FINISHED state arrives first: it may still have an acknowledgement on its way.
    src.transitionTo("FINISHED");
    coordinator.producerFinished(src.attemptId);
    assert.deepEqual(triggered.at(-1), { vertex: "sink", id: 1 }, "no barrier can reach the sink any more: triggered directly");
    coordinator.acknowledge(sink.attemptId, 1, { operators: { sink: {} } });
    await tick();
    assert.equal(completed.length, 0, "still waiting for the source's own word");
    coordinator.taskFinished(src.attemptId);
    const cp = await done;
    assert.equal(cp.vertices.src?.subtasks[0]?.finished, true);
  } finally {
    stop();
  }
});

test("a source that acknowledged before it finished keeps its state in the checkpoint", { timeout: 10_000 }, async () => {
  const { src, sink, coordinator, stop } = setup();
  try {
    const done = coordinator.trigger("CHECKPOINT");
    await tick();
    const handle = { object: "j/chk-1/src-0-operator", bytes: 9, states: {} };
    coordinator.acknowledge(src.attemptId, 1, { operators: { src: { operator: handle } } });
    coordinator.taskFinished(src.attemptId);
    coordinator.acknowledge(sink.attemptId, 1, { operators: { sink: {} } });
    const cp = await done;
    assert.deepEqual(cp.vertices.src?.subtasks[0], { operators: { src: { operator: handle } } });
    assert.equal(cp.finishedOperators, undefined);
  } finally {
    stop();
  }
});

test("a task at its end of input gets a checkpoint right away, not after the interval", { timeout: 10_000 }, async () => {
  const { src, sink, coordinator, triggered, stop } = setup(3_600_000);
  try {
    coordinator.start();
    src.transitionTo("FINISHED");
    coordinator.producerFinished(src.attemptId);
    coordinator.taskEndOfInput(sink.attemptId);
    await tick();
    await tick();
    assert.deepEqual(triggered, [{ vertex: "sink", id: 1 }], "the final checkpoint was triggered at once");
  } finally {
    stop();
  }
});

test("a failover while a fully acknowledged checkpoint is being recorded keeps its state; it completes; pending ones are aborted", {
  timeout: 10_000,
}, async () => {
  let land!: () => void;
  const landed = new Promise<void>((r) => (land = r));
  const { src, sink, coordinator, completed, discarded, stop } = setup(3_600_000, (cp) => (cp.checkpointId === 1 ? landed : Promise.resolve()), 2);
  try {
    const first = coordinator.trigger("CHECKPOINT");
    await tick();
    coordinator.acknowledge(src.attemptId, 1, { operators: { src: {} } });
    coordinator.acknowledge(sink.attemptId, 1, { operators: { sink: {} } });
    await tick();
    const second = coordinator.trigger("CHECKPOINT");
    await tick();
    coordinator.abortAll("a failover resets the tasks");
    await assert.rejects(second, /a failover resets the tasks/);
    assert.deepEqual(discarded, [2], "the pending checkpoint's state is discarded, not the one being recorded");
    land();
    const cp = await first;
    assert.equal(cp.checkpointId, 1);
    assert.deepEqual(
      completed.map((c) => c.checkpointId),
      [1],
    );
    assert.deepEqual(discarded, [2]);
  } finally {
    stop();
  }
});

test("declineAll ends the pending checkpoints still waiting for that task, not those it acknowledged, and keeps checkpointing", {
  timeout: 10_000,
}, async () => {
  const { src, sink, coordinator, discarded, triggered, stop } = setup(3_600_000, async () => undefined, 2);
  try {
    const first = coordinator.trigger("CHECKPOINT");
    await tick();
    coordinator.acknowledge(src.attemptId, 1, { operators: { src: {} } });
    const second = coordinator.trigger("CHECKPOINT");
    await tick();
    // The source's connection came back: checkpoint 2 waits for it (its trigger may be lost); 1 does not.
    coordinator.declineAll(src.attemptId, "the task's NATS connection was re-established");
    await assert.rejects(second, /declined by a task: the task's NATS connection was re-established/);
    assert.deepEqual(discarded, [2]);
    coordinator.acknowledge(sink.attemptId, 1, { operators: { sink: {} } });
    assert.equal((await first).checkpointId, 1, "the checkpoint the task had acknowledged completes");
    const third = coordinator.trigger("CHECKPOINT");
    await tick();
    assert.deepEqual(
      triggered.map((t) => t.id),
      [1, 2, 3],
    );
    coordinator.acknowledge(src.attemptId, 3, { operators: { src: {} } });
    coordinator.acknowledge(sink.attemptId, 3, { operators: { sink: {} } });
    assert.equal((await third).checkpointId, 3);
  } finally {
    stop();
  }
});

test("a completed checkpoint subsumes the older ones still pending (Flink's dropSubsumedCheckpoints), without counting a failure", {
  timeout: 10_000,
}, async () => {
  const { src, sink, coordinator, discarded, completed, stop } = setup(3_600_000, async () => undefined, 2);
  try {
    const first = coordinator.trigger("CHECKPOINT");
    await tick();
    const second = coordinator.trigger("CHECKPOINT");
    await tick();
    coordinator.acknowledge(src.attemptId, 2, { operators: { src: {} } });
    coordinator.acknowledge(sink.attemptId, 2, { operators: { sink: {} } });
    assert.equal((await second).checkpointId, 2);
    await assert.rejects(first, /subsumed by checkpoint 2/);
    assert.deepEqual(discarded, [1], "the subsumed checkpoint's state is discarded");
    assert.deepEqual(
      completed.map((c) => c.checkpointId),
      [2],
    );
    // A late acknowledgement of the subsumed checkpoint changes nothing.
    coordinator.acknowledge(src.attemptId, 1, { operators: { src: {} } });
    coordinator.acknowledge(sink.attemptId, 1, { operators: { sink: {} } });
    await tick();
    assert.deepEqual(
      completed.map((c) => c.checkpointId),
      [2],
    );
  } finally {
    stop();
  }
});

test("a trigger superseded by a savepoint or held by an ending task is declined without failing the job; a failed one fails it", {
  timeout: 10_000,
}, async () => {
  const failures: string[] = [];
  const { src, coordinator, discarded, stop } = setup(
    3_600_000,
    async () => undefined,
    1,
    silentLogger(),
    (r) => void failures.push(r),
  );
  try {
    // No failure is tolerated (Flink's default), yet neither decline below is a checkpoint failure.
    const superseded = coordinator.trigger("CHECKPOINT");
    await tick();
    coordinator.decline(src.attemptId, 1, "superseded by a newer checkpoint", "CHECKPOINT_DECLINED_SUBSUMED");
    await assert.rejects(superseded, /superseded by a newer checkpoint/);
    const closing = coordinator.trigger("CHECKPOINT");
    await tick();
    coordinator.decline(src.attemptId, 2, "the task ended", "CHECKPOINT_DECLINED_TASK_CLOSING");
    await assert.rejects(closing, /the task ended/);
    assert.deepEqual(failures, []);
    assert.deepEqual(discarded, [1, 2]);
    // A task that tried and failed (the default reason) counts: the job fails.
    const failed = coordinator.trigger("CHECKPOINT");
    await tick();
    coordinator.decline(src.attemptId, 3, "uploading state failed");
    await assert.rejects(failed, /uploading state failed/);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /1 checkpoint\(s\) failed in a row \(tolerable: 0\); last: declined by a task: uploading state failed/);
  } finally {
    stop();
  }
});

test("a checkpoint pending far beyond its interval is reported (warn) with the tasks it waits for, until it ends", { timeout: 10_000 }, async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const lines: Array<{ msg: string; checkpointId?: number; waiting?: string[] }> = [];
  const log = pino({ level: "warn" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const { src, sink, coordinator, stop } = setup(100, async () => undefined, 1, log);
  try {
    const pending = coordinator.trigger("CHECKPOINT");
    await tick();
    coordinator.acknowledge(src.attemptId, 1, { operators: { src: {} } });
    t.mock.timers.tick(4_999);
    assert.equal(lines.length, 0, "nothing reported before the bound (5 s, at least 10 intervals)");
    t.mock.timers.tick(1);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.msg, /checkpoint overdue: tasks have not acknowledged it/);
    assert.equal(lines[0]!.checkpointId, 1);
    assert.deepEqual(lines[0]!.waiting, ["sink (1) RUNNING"], "only the task that has not acknowledged, not triggered directly");
    t.mock.timers.tick(5_000);
    assert.equal(lines.length, 2, "reported again while it stays pending");
    coordinator.acknowledge(sink.attemptId, 1, { operators: { sink: {} } });
    await pending;
    t.mock.timers.tick(20_000);
    assert.equal(lines.length, 2, "no report once it completed");
  } finally {
    stop();
  }
});
