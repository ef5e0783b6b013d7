/**
 * The DefaultScheduler against simulated TaskExecutors that acknowledge every call: the state reports
 * that cross a cancel on the way (Flink's Execution.markFinished while CANCELING).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ExecutionGraph } from "../../src/executiongraph/execution-graph.js";
import { DefaultScheduler } from "../../src/scheduler/default-scheduler.js";
import { silentLogger } from "../../src/core/logger.js";
import { validateJobGraph } from "../../src/jobgraph/validate.js";
import { ackingSchedulerContext } from "../helpers/scheduler-context.js";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";

/** Two independent pipelines (two regions), restarted together by the full failover strategy. */
function twoRegions(failoverStrategy: "full" | "region") {
  const graph = new ExecutionGraph(
    validateJobGraph(
      {
        name: "two regions",
        vertices: [
          { id: "ok", invokable: "source.sequence", parallelism: 1, config: { from: 1, to: 10 } },
          { id: "okSink", invokable: "sink.discard", parallelism: 1 },
          { id: "bad", invokable: "source.sequence", parallelism: 1, config: { from: 1, to: 10 } },
          { id: "badSink", invokable: "sink.discard", parallelism: 1 },
        ],
        edges: [
          { source: "ok", target: "okSink", partitioner: "forward" },
          { source: "bad", target: "badSink", partitioner: "forward" },
        ],
        config: { restartStrategy: { type: "fixed-delay", attempts: 1, delayMs: 0 }, failoverStrategy },
      },
      builtinRegistry,
    ),
  );
  const a = ackingSchedulerContext();
  const scheduler = new DefaultScheduler(graph, a.ctx, silentLogger());
  const byId = (id: string) => a.deployed.find((e) => e.vertex.jobVertex.id === id)!;
  return { graph, scheduler, a, byId, dispose: () => (a.dispose(), graph.dispose()) };
}

test("DefaultScheduler: a task that finished while its cancel was on the way counts as canceled, and the full failover restarts the job", async () => {
  const t = twoRegions("full");
  try {
    t.scheduler.startScheduling();
    t.a.offer(t.scheduler, "te1", 2);
    assert.equal(t.a.deployed.length, 4, "both regions deployed");
    t.a.report(t.scheduler, [...t.a.deployed], "RUNNING");
    const ok = t.byId("ok");
    t.scheduler.updateTaskExecutionState({
      attemptId: t.byId("bad").attemptId,
      state: "FAILED",
      failure: { code: "TaskFailed", name: "Error", message: "boom" },
    });
    assert.equal(t.graph.state, "RESTARTING");
    assert.deepEqual(new Set(t.a.canceled), new Set([ok, t.byId("okSink"), t.byId("badSink")]), "every other task is canceled");
    // ok's FINISHED report crossed the cancel: no CANCELED report will come for it.
    t.a.report(t.scheduler, [ok], "FINISHED");
    assert.equal(ok.state, "CANCELED");
    t.a.report(t.scheduler, [t.byId("okSink"), t.byId("badSink")], "CANCELED");
    await t.a.tick();
    assert.equal(t.graph.state, "RUNNING", "restarted");
    assert.equal(t.a.deployed.length, 8, "both regions deployed again");
    assert.deepEqual(
      t.a.deployed.slice(4).map((e) => e.attemptNumber),
      [1, 1, 1, 1],
    );
  } finally {
    t.dispose();
  }
});

test("DefaultScheduler: a late RUNNING report of a task being canceled changes nothing; its CANCELED report ends the cancel", async () => {
  const t = twoRegions("full");
  try {
    t.scheduler.startScheduling();
    t.a.offer(t.scheduler, "te1", 2);
    const ok = t.byId("ok");
    t.scheduler.updateTaskExecutionState({ attemptId: ok.attemptId, state: "INITIALIZING" });
    t.scheduler.updateTaskExecutionState({
      attemptId: t.byId("bad").attemptId,
      state: "FAILED",
      failure: { code: "TaskFailed", name: "Error", message: "boom" },
    });
    assert.equal(ok.state, "CANCELING");
    assert.equal(t.scheduler.updateTaskExecutionState({ attemptId: ok.attemptId, state: "RUNNING" }), true);
    assert.equal(ok.state, "CANCELING");
    t.a.report(t.scheduler, [ok], "CANCELED");
    assert.equal(ok.state, "CANCELED");
    t.a.report(t.scheduler, [t.byId("okSink"), t.byId("badSink")], "CANCELED");
    await t.a.tick();
    assert.equal(t.graph.state, "RUNNING", "restarted");
    assert.equal(t.a.deployed.length, 8);
  } finally {
    t.dispose();
  }
});

test("DefaultScheduler: a task that fails while the job is being canceled counts as canceled, and the job ends CANCELED", async () => {
  const t = twoRegions("region");
  try {
    t.scheduler.startScheduling();
    t.a.offer(t.scheduler, "te1", 2);
    t.a.report(t.scheduler, [...t.a.deployed], "RUNNING");
    t.scheduler.cancel();
    const sink = t.byId("okSink");
    assert.equal(sink.state, "CANCELING");
    // Its producer was canceled first and released its partition: the consumer fails before its own cancel arrives.
    t.scheduler.updateTaskExecutionState({
      attemptId: sink.attemptId,
      state: "FAILED",
      failure: { code: "TaskFailed", name: "EddyError", message: "producer released its result partitions before their end" },
    });
    assert.equal(sink.state, "CANCELED");
    assert.equal(sink.failure, undefined, "no failure recorded for it");
    t.a.report(t.scheduler, [t.byId("ok"), t.byId("bad"), t.byId("badSink")], "CANCELED");
    await t.a.tick();
    assert.equal(t.graph.state, "CANCELED");
  } finally {
    t.dispose();
  }
});

test("DefaultScheduler: reports out of order (a retried one after a later one) pass through the states between and ignore what is past", () => {
  const t = twoRegions("region");
  try {
    t.scheduler.startScheduling();
    t.a.offer(t.scheduler, "te1", 2);
    const ok = t.byId("ok");
    assert.equal(ok.state, "DEPLOYING");
    t.scheduler.updateTaskExecutionState({ attemptId: ok.attemptId, state: "RUNNING" });
    assert.equal(ok.state, "RUNNING", "INITIALIZING's report not had yet: passed through");
    assert.ok(ok.stateTimestamps.INITIALIZING !== undefined && ok.stateTimestamps.INITIALIZING <= ok.stateTimestamps.RUNNING!);
    assert.equal(t.scheduler.updateTaskExecutionState({ attemptId: ok.attemptId, state: "INITIALIZING" }), true);
    assert.equal(ok.state, "RUNNING", "the late INITIALIZING changes nothing");
    t.scheduler.updateTaskExecutionState({ attemptId: ok.attemptId, state: "FINISHED" });
    t.scheduler.updateTaskExecutionState({ attemptId: ok.attemptId, state: "RUNNING" });
    assert.equal(ok.state, "FINISHED");
    const sink = t.byId("okSink");
    t.scheduler.updateTaskExecutionState({ attemptId: sink.attemptId, state: "FINISHED" });
    assert.equal(sink.state, "FINISHED", "from DEPLOYING through INITIALIZING and RUNNING");
    assert.deepEqual(Object.keys(sink.stateTimestamps), ["CREATED", "SCHEDULED", "DEPLOYING", "INITIALIZING", "RUNNING", "FINISHED"]);
  } finally {
    t.dispose();
  }
});
