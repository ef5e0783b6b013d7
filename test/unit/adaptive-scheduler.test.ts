/**
 * The AdaptiveScheduler (the SchedulerNG around the machine) against simulated TaskExecutors that
 * acknowledge every call (as Flink's SimpleAckingTaskManagerGateway in its scheduler tests): slot
 * sharing, job status, rescale on new slots, failures, declared bounds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ExecutionGraph } from "../../src/executiongraph/execution-graph.js";
import type { Execution } from "../../src/executiongraph/execution.js";
import { AdaptiveScheduler, adaptiveSchedulerSettings, type AdaptiveSchedulerSettings } from "../../src/scheduler/adaptive/index.js";
import { silentLogger } from "../../src/core/logger.js";
import { newId } from "../../src/core/ids.js";
import { validateJobGraph } from "../../src/jobgraph/validate.js";
import type { EddyError } from "../../src/core/errors.js";
import { ackingSchedulerContext } from "../helpers/scheduler-context.js";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";

function setup(settings: Partial<AdaptiveSchedulerSettings>, restartStrategy: unknown = { type: "fixed-delay", attempts: 5, delayMs: 0 }) {
  const jg = validateJobGraph(
    {
      name: "t",
      vertices: [
        { id: "src", invokable: "source.sequence", parallelism: 2, config: { from: 1, to: 10 } },
        { id: "sink", invokable: "sink.discard", parallelism: 2, chaining: false },
      ],
      edges: [{ source: "src", target: "sink", partitioner: "rebalance" }],
      config: { restartStrategy },
    },
    builtinRegistry,
  );
  const graph = new ExecutionGraph(jg);
  const a = ackingSchedulerContext();
  const scheduler = new AdaptiveScheduler(graph, a.ctx, silentLogger(), adaptiveSchedulerSettings({ resourceStabilizationTimeoutMs: 0, ...settings }));
  const offer = (te: string, n: number) => a.offer(scheduler, te, n);
  const report = (es: Execution[], state: "RUNNING" | "CANCELED" | "FAILED" | "FINISHED") => a.report(scheduler, es, state);
  const dispose = () => {
    a.dispose();
    graph.dispose();
  };
  const { deployed, canceled, declared, released, ended, tick } = a;
  return { graph, scheduler, deployed, canceled, declared, released, ended, offer, report, tick, dispose };
}

test("AdaptiveScheduler: runs at the slots it has with slot sharing, then rescales up on a new slot", async () => {
  const t = setup({ scalingIntervalMinMs: 0 });
  try {
    t.scheduler.startScheduling();
    assert.deepEqual(t.declared, [2], "declares the slots of the upper bounds");
    assert.equal(t.graph.state, "CREATED");
    t.offer("te1", 1);
    assert.equal(t.graph.state, "RUNNING");
    assert.deepEqual(
      [...t.graph.jobVertices.values()].map((v) => v.parallelism),
      [1, 1],
    );
    assert.equal(new Set(t.deployed.map((e) => e.slot!.allocationId)).size, 1, "source and sink share the one slot");
    t.report([...t.deployed], "RUNNING");
    await t.tick(); // the (zero) cooldown
    t.offer("te2", 1);
    assert.equal(t.graph.state, "RESTARTING");
    assert.equal(t.canceled.length, 2);
    t.report([...t.canceled], "CANCELED");
    await t.tick(); // the (zero) backoff
    assert.equal(t.graph.state, "RUNNING");
    assert.deepEqual(
      [...t.graph.jobVertices.values()].map((v) => v.parallelism),
      [2, 2],
    );
    const now = t.deployed.slice(2);
    assert.equal(now.length, 4);
    assert.deepEqual(
      [0, 1].map((i) => new Set(now.filter((e) => e.vertex.subtaskIndex === i).map((e) => e.slot!.allocationId)).size),
      [1, 1],
      "subtask i of both vertices in the i-th slot",
    );
    assert.deepEqual(
      t.scheduler.timeline.map((x) => x.parallelism),
      [
        { src: 1, sink: 1 },
        { src: 2, sink: 2 },
      ],
    );
    t.report(now, "RUNNING");
    t.report(now, "FINISHED");
    assert.deepEqual(t.ended, ["FINISHED"]);
    assert.equal(t.released.length, 2, "slots go back at the end");
    assert.equal(t.declared.at(-1), 0);
  } finally {
    t.dispose();
  }
});

test("AdaptiveScheduler: a failure without restarts fails the job once every task is final; late reports are ignored", async () => {
  const t = setup({}, { type: "none" });
  try {
    t.scheduler.startScheduling();
    t.offer("te1", 2);
    const first = [...t.deployed];
    t.report(first, "RUNNING");
    t.report([first[0]!], "FAILED");
    assert.equal(t.graph.state, "FAILING");
    t.report(t.canceled, "CANCELED");
    assert.deepEqual(t.ended, ["FAILED"]);
    assert.equal(t.graph.state, "FAILED");
    assert.equal(
      t.scheduler.updateTaskExecutionState({ attemptId: first[1]!.attemptId, state: "CANCELED" }),
      true,
      "a late report of a known attempt is accepted and ignored",
    );
    assert.equal(t.scheduler.updateTaskExecutionState({ attemptId: newId(), state: "RUNNING" }), false);
  } finally {
    t.dispose();
  }
});

test("AdaptiveScheduler: a lost TaskExecutor restarts the job at the parallelism the remaining slots allow", async () => {
  const t = setup({ scalingIntervalMinMs: 0 });
  try {
    t.scheduler.startScheduling();
    t.offer("te1", 1);
    t.offer("te2", 1);
    // te1's slot came first: the job started at 1; the second slot rescales it to 2 once the cooldown passed.
    await t.tick();
    t.report(t.canceled, "CANCELED");
    await t.tick();
    assert.deepEqual(
      [...t.graph.jobVertices.values()].map((v) => v.parallelism),
      [2, 2],
    );
    t.report(t.deployed.slice(-4), "RUNNING");
    t.scheduler.taskExecutorLost("te2", { code: "TaskExecutorLost", name: "EddyError", message: "gone" });
    assert.equal(t.graph.state, "RESTARTING");
    t.report(t.canceled.slice(-2), "CANCELED");
    await t.tick();
    assert.equal(t.graph.state, "RUNNING");
    assert.deepEqual(
      [...t.graph.jobVertices.values()].map((v) => v.parallelism),
      [1, 1],
    );
    assert.ok(t.deployed.slice(-2).every((e) => e.slot!.taskExecutorId === "te1"));
  } finally {
    t.dispose();
  }
});

test("AdaptiveScheduler: declared bounds are checked and change nothing when refused", () => {
  const t = setup({});
  try {
    t.scheduler.startScheduling();
    assert.throws(
      () => t.scheduler.updateRequirements("nope", { lower: 1, upper: 1 }),
      (e: EddyError) => e.code === "VertexNotFound",
    );
    assert.throws(
      () => t.scheduler.updateRequirements("sink", { lower: 3, upper: 2 }),
      (e: EddyError) => e.code === "InvalidParallelism",
    );
    assert.throws(
      () => t.scheduler.updateRequirements("sink", { lower: 1, upper: 100_000 }),
      (e: EddyError) => e.code === "InvalidParallelism",
    );
    assert.deepEqual(
      t.scheduler.requirements().map((r) => [r.lower, r.upper]),
      [
        [1, 2],
        [1, 2],
      ],
    );
    assert.deepEqual(t.scheduler.updateRequirements("sink", { upper: 5 }), { vertexId: "sink", lower: 1, upper: 5 });
    assert.deepEqual(t.declared.at(-1), 5, "the new upper bound is declared");
  } finally {
    t.dispose();
  }
});

test("AdaptiveScheduler: a state report repeated by a TaskExecutor that got no answer is accepted and changes nothing", () => {
  const t = setup({});
  try {
    t.scheduler.startScheduling();
    t.offer("te1", 2);
    t.report([...t.deployed], "RUNNING");
    const e = t.deployed[0]!;
    assert.equal(t.scheduler.updateTaskExecutionState({ attemptId: e.attemptId, state: "RUNNING" }), true);
    assert.equal(e.state, "RUNNING");
    assert.equal(t.graph.state, "RUNNING");
    assert.equal(t.canceled.length, 0, "no failover");
  } finally {
    t.dispose();
  }
});

test("AdaptiveScheduler: a task that finished while its cancel for a rescale was on the way counts as canceled, and the rescale completes", async () => {
  const t = setup({ scalingIntervalMinMs: 0 });
  try {
    t.scheduler.startScheduling();
    t.offer("te1", 1);
    t.report([...t.deployed], "RUNNING");
    await t.tick();
    t.offer("te2", 1);
    assert.equal(t.graph.state, "RESTARTING");
    const [finishedFirst, canceled] = t.canceled;
    // Its FINISHED report crossed the cancel: no CANCELED report will come for it.
    t.report([finishedFirst!], "FINISHED");
    assert.equal(finishedFirst!.state, "CANCELED");
    t.report([canceled!], "RUNNING");
    assert.equal(canceled!.state, "CANCELING", "a late RUNNING report of a canceling task changes nothing");
    t.report([canceled!], "CANCELED");
    await t.tick();
    assert.equal(t.graph.state, "RUNNING");
    assert.deepEqual(
      [...t.graph.jobVertices.values()].map((v) => v.parallelism),
      [2, 2],
    );
  } finally {
    t.dispose();
  }
});
