/**
 * The AdaptiveScheduler machine driven without NATS: a recording environment stands for the
 * scheduler around it (slots held, tasks' states) and XState's SimulatedClock for time, one scenario
 * per state as Flink's CreatedTest, WaitingForResourcesTest, ExecutingTest, RestartingTest,
 * StopWithSavepointTest, FailingTest and CancelingTest.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createActor, SimulatedClock } from "xstate";
import type { FailureInfo } from "../../src/core/errors.js";
import type { JobStatus } from "../../src/executiongraph/job-status.js";
import {
  adaptiveSchedulerMachine,
  adaptiveSchedulerSettings,
  determineParallelism,
  shouldRescale,
  type AdaptiveSchedulerEnvironment,
  type AdaptiveSchedulerSettings,
  type CreationOutcome,
  type VertexRequirement,
} from "../../src/scheduler/adaptive/index.js";

/** The world around the machine: `slots` held, `desired`/`sufficient` thresholds, tasks running or final. */
class TestingEnvironment implements AdaptiveSchedulerEnvironment {
  slots = 0;
  desired = 4;
  sufficient = 1;
  running = 0;
  current = 0;
  creation: CreationOutcome | undefined;
  readonly calls: string[] = [];
  result: { status: JobStatus; cause: FailureInfo | undefined } | undefined;
  hasDesiredResources = () => this.slots >= this.desired;
  hasSufficientResources = () => this.slots >= this.sufficient;
  declareResources = () => void this.calls.push("declare");
  createExecutionGraph = (): CreationOutcome => {
    this.calls.push("create");
    const c = this.creation ?? (this.hasSufficientResources() ? { kind: "assigned" } : { kind: "noResources" });
    if (c.kind === "assigned") this.current = Math.min(this.slots, this.desired);
    return c;
  };
  deploy = () => {
    this.calls.push(`deploy@${this.current}`);
    this.running = this.current;
  };
  shouldRescale = () => Math.min(this.slots, this.desired) !== this.current;
  cancelExecutionGraph = () => void this.calls.push("cancel");
  allTasksTerminal = () => this.running === 0;
  triggerStopWithSavepoint = () => void this.calls.push("savepoint");
  finished = (status: JobStatus, cause: FailureInfo | undefined) => {
    this.result = { status, cause };
  };
}

function start(settings: Partial<AdaptiveSchedulerSettings> = {}, env = new TestingEnvironment()) {
  const clock = new SimulatedClock();
  const actor = createActor(adaptiveSchedulerMachine, { input: { env, settings: adaptiveSchedulerSettings(settings) }, clock }).start();
  const state = () => {
    const v = actor.getSnapshot().value;
    return typeof v === "string" ? v : Object.entries(v).map(([k, sub]) => `${k}.${String(sub)}`)[0]!;
  };
  return { env, clock, actor, state, send: (e: Parameters<typeof actor.send>[0]) => actor.send(e) };
}

const cause: FailureInfo = { code: "TaskFailed", name: "EddyError", message: "boom" };

// --- CreatedTest ------------------------------------------------------------------------------

test("Created: startScheduling goes to WaitingForResources and declares the resources", () => {
  const m = start();
  assert.equal(m.state(), "created");
  m.send({ type: "START_SCHEDULING" });
  assert.equal(m.state(), "waitingForResources.insufficient");
  assert.deepEqual(m.env.calls, ["declare"]);
});

test("Created: cancel finishes the job CANCELED, suspend SUSPENDED", () => {
  const a = start();
  a.send({ type: "CANCEL" });
  assert.equal(a.env.result?.status, "CANCELED");
  const b = start();
  b.send({ type: "SUSPEND" });
  assert.equal(b.env.result?.status, "SUSPENDED");
});

// --- WaitingForResourcesTest ------------------------------------------------------------------

test("WaitingForResources: desired resources create and deploy the ExecutionGraph at once", () => {
  const m = start();
  m.env.slots = 4;
  m.send({ type: "START_SCHEDULING" });
  assert.equal(m.state(), "executing.cooldown");
  assert.deepEqual(m.env.calls, ["declare", "create", "deploy@4"]);
});

test("WaitingForResources: sufficient resources wait out the stabilization timeout (10 s by default)", () => {
  const m = start();
  m.env.slots = 2;
  m.send({ type: "START_SCHEDULING" });
  assert.equal(m.state(), "waitingForResources.stabilizing");
  m.clock.increment(9_999);
  assert.equal(m.state(), "waitingForResources.stabilizing");
  m.clock.increment(1);
  assert.equal(m.state(), "executing.cooldown");
  assert.deepEqual(m.env.calls.at(-1), "deploy@2");
});

test("WaitingForResources: desired resources arriving while stabilizing end the wait early", () => {
  const m = start();
  m.env.slots = 1;
  m.send({ type: "START_SCHEDULING" });
  m.clock.increment(3_000);
  m.env.slots = 4;
  m.send({ type: "RESOURCES_CHANGED" });
  assert.equal(m.state(), "executing.cooldown");
  assert.equal(m.env.calls.at(-1), "deploy@4");
});

test("WaitingForResources: losing sufficiency while stabilizing goes back to waiting", () => {
  const m = start();
  m.env.slots = 1;
  m.send({ type: "START_SCHEDULING" });
  m.env.slots = 0;
  m.send({ type: "RESOURCES_CHANGED" });
  assert.equal(m.state(), "waitingForResources.insufficient");
  m.clock.increment(20_000);
  assert.equal(m.state(), "waitingForResources.insufficient");
});

test("WaitingForResources: the resource wait timeout (5 min) fails a job without sufficient resources", () => {
  const m = start();
  m.send({ type: "START_SCHEDULING" });
  m.clock.increment(299_999);
  assert.equal(m.env.result === undefined, true);
  m.clock.increment(1);
  assert.equal(m.env.result?.status, "FAILED");
  assert.equal(m.env.result?.cause?.code, "SlotAllocationFailed");
});

test("WaitingForResources: reactive mode waits forever and runs on the first slot without stabilizing", () => {
  const m = start({ reactive: true });
  m.send({ type: "START_SCHEDULING" });
  m.clock.increment(24 * 3_600_000);
  assert.equal(m.state(), "waitingForResources.insufficient");
  m.env.slots = 1;
  m.send({ type: "RESOURCES_CHANGED" });
  assert.equal(m.state(), "executing.cooldown");
  assert.equal(m.env.calls.at(-1), "deploy@1");
});

test("CreatingExecutionGraph: slots lost before assignment go back to waiting; a creation failure fails the job", () => {
  const m = start();
  m.env.slots = 4;
  m.env.creation = { kind: "noResources" };
  m.send({ type: "START_SCHEDULING" });
  assert.equal(m.state(), "waitingForResources.insufficient");
  m.env.creation = undefined;
  m.send({ type: "RESOURCES_CHANGED" });
  assert.equal(m.state(), "executing.cooldown");
  const f = start();
  f.env.slots = 4;
  f.env.creation = { kind: "failed", cause };
  f.send({ type: "START_SCHEDULING" });
  assert.equal(f.env.result?.status, "FAILED");
  assert.equal(f.env.result?.cause?.message, "boom");
});

// --- ExecutingTest ----------------------------------------------------------------------------

test("Executing: new slots rescale only after the scaling interval (30 s) since entering Executing", () => {
  const m = start({ resourceStabilizationTimeoutMs: 0 });
  m.env.slots = 2;
  m.env.desired = 8;
  m.send({ type: "START_SCHEDULING" });
  m.clock.increment(10_000);
  assert.equal(m.state(), "executing.cooldown");
  m.env.slots = 4;
  m.send({ type: "RESOURCES_CHANGED" });
  assert.equal(m.state(), "executing.cooldown", "no rescale during the cooldown");
  m.clock.increment(19_999);
  assert.equal(m.state(), "executing.cooldown");
  m.clock.increment(1);
  assert.equal(m.state(), "restarting.cancelingTasks", "the pending change is acted on when the cooldown ends");
  assert.equal(m.env.calls.at(-1), "cancel");
  assert.equal(m.actor.getSnapshot().context.rescales, 1);
});

test("Executing: after the cooldown, a worthwhile change of slots rescales at once; an unchanged parallelism does not", () => {
  const m = start({ scalingIntervalMinMs: 0, resourceStabilizationTimeoutMs: 0 });
  m.env.slots = 2;
  m.env.desired = 8;
  m.send({ type: "START_SCHEDULING" });
  m.clock.increment(0);
  assert.equal(m.state(), "executing.idle");
  m.send({ type: "RESOURCES_CHANGED" });
  assert.equal(m.state(), "executing.idle");
  m.env.slots = 3;
  m.send({ type: "RESOURCES_CHANGED" });
  assert.equal(m.state(), "restarting.cancelingTasks");
});

test("Executing: a failure restarts when the strategy allows, else fails; all tasks finished ends FINISHED", () => {
  const a = start();
  a.env.slots = 4;
  a.send({ type: "START_SCHEDULING" });
  a.send({ type: "FAILURE", cause, canRestart: true, backoffMs: 1000 });
  assert.equal(a.state(), "restarting.cancelingTasks");
  const b = start();
  b.env.slots = 4;
  b.send({ type: "START_SCHEDULING" });
  b.send({ type: "FAILURE", cause, canRestart: false, backoffMs: 0 });
  assert.equal(b.state(), "failing");
  const c = start();
  c.env.slots = 4;
  c.send({ type: "START_SCHEDULING" });
  c.send({ type: "ALL_TASKS_FINISHED" });
  assert.equal(c.env.result?.status, "FINISHED");
});

// --- RestartingTest ---------------------------------------------------------------------------

test("Restarting: waits for every task to be final and the backoff, then waits for resources at the new scale", () => {
  const m = start();
  m.env.slots = 4;
  m.send({ type: "START_SCHEDULING" });
  m.send({ type: "FAILURE", cause, canRestart: true, backoffMs: 1000 });
  m.clock.increment(5000);
  assert.equal(m.state(), "restarting.cancelingTasks", "tasks still running");
  m.env.running = 0;
  m.env.slots = 2; // a TaskExecutor went away with the failure
  m.send({ type: "ALL_TASKS_TERMINAL" });
  assert.equal(m.state(), "restarting.backingOff");
  m.clock.increment(999);
  assert.equal(m.state(), "restarting.backingOff");
  m.clock.increment(1);
  assert.equal(m.state(), "waitingForResources.stabilizing");
  m.clock.increment(10_000);
  assert.equal(m.env.calls.at(-1), "deploy@2");
});

test("Restarting: cancel goes to Canceling", () => {
  const m = start();
  m.env.slots = 4;
  m.send({ type: "START_SCHEDULING" });
  m.send({ type: "FAILURE", cause, canRestart: true, backoffMs: 1000 });
  m.send({ type: "CANCEL" });
  assert.equal(m.state(), "canceling");
  m.env.running = 0;
  m.send({ type: "ALL_TASKS_TERMINAL" });
  assert.equal(m.env.result?.status, "CANCELED");
});

// --- StopWithSavepointTest --------------------------------------------------------------------

test("StopWithSavepoint: savepoint complete and tasks finished end FINISHED; a failed savepoint resumes Executing", () => {
  const a = start();
  a.env.slots = 4;
  a.send({ type: "START_SCHEDULING" });
  a.send({ type: "STOP_WITH_SAVEPOINT" });
  assert.equal(a.state(), "stopWithSavepoint.savepointPending");
  assert.equal(a.env.calls.at(-1), "savepoint");
  a.env.slots = 8;
  a.send({ type: "RESOURCES_CHANGED" });
  assert.equal(a.state(), "stopWithSavepoint.savepointPending", "no rescale while stopping");
  a.send({ type: "SAVEPOINT_COMPLETED" });
  a.send({ type: "ALL_TASKS_FINISHED" });
  assert.equal(a.env.result?.status, "FINISHED");
  const b = start();
  b.env.slots = 4;
  b.send({ type: "START_SCHEDULING" });
  b.send({ type: "STOP_WITH_SAVEPOINT" });
  b.send({ type: "SAVEPOINT_FAILED", reason: "declined" });
  assert.equal(b.state(), "executing.cooldown");
  assert.equal(b.env.calls.filter((c) => c.startsWith("deploy")).length, 1, "returning to Executing deploys nothing");
});

test("StopWithSavepoint: a task failure is handled as in Executing", () => {
  const m = start();
  m.env.slots = 4;
  m.send({ type: "START_SCHEDULING" });
  m.send({ type: "STOP_WITH_SAVEPOINT" });
  m.send({ type: "FAILURE", cause, canRestart: false, backoffMs: 0 });
  assert.equal(m.state(), "failing");
});

// --- FailingTest ------------------------------------------------------------------------------

test("Failing: cancels the tasks and, once all are final, ends FAILED with the cause", () => {
  const m = start();
  m.env.slots = 4;
  m.send({ type: "START_SCHEDULING" });
  m.send({ type: "FAILURE", cause, canRestart: false, backoffMs: 0 });
  assert.equal(m.env.calls.at(-1), "cancel");
  assert.equal(m.env.result === undefined, true);
  m.env.running = 0;
  m.send({ type: "ALL_TASKS_TERMINAL" });
  assert.deepEqual(m.env.result, { status: "FAILED", cause });
});

test("Failing: cancel goes to Canceling", () => {
  const m = start();
  m.env.slots = 4;
  m.send({ type: "START_SCHEDULING" });
  m.send({ type: "FAILURE", cause, canRestart: false, backoffMs: 0 });
  m.send({ type: "CANCEL" });
  assert.equal(m.state(), "canceling");
});

// --- CancelingTest ----------------------------------------------------------------------------

test("Canceling: cancels the tasks, ignores failures, ends CANCELED once all are final", () => {
  const m = start();
  m.env.slots = 4;
  m.send({ type: "START_SCHEDULING" });
  m.send({ type: "CANCEL" });
  assert.equal(m.state(), "canceling");
  m.send({ type: "FAILURE", cause, canRestart: true, backoffMs: 0 });
  assert.equal(m.state(), "canceling");
  m.env.running = 0;
  m.send({ type: "ALL_TASKS_TERMINAL" });
  assert.equal(m.env.result?.status, "CANCELED");
});

test("Canceling: suspension wins over a cancel in progress", () => {
  const m = start();
  m.env.slots = 4;
  m.send({ type: "START_SCHEDULING" });
  m.send({ type: "CANCEL" });
  m.send({ type: "SUSPEND" });
  assert.equal(m.env.result?.status, "SUSPENDED");
});

// --- SlotAllocator ----------------------------------------------------------------------------

const v = (id: string, lower: number, upper: number, group = "default", maxParallelism = 128): VertexRequirement => ({
  id,
  slotSharingGroup: group,
  lower,
  upper,
  maxParallelism,
});

test("SlotAllocator: one sharing group runs every vertex at the slot count, bounded by its upper bound", () => {
  const p = determineParallelism([v("src", 1, 2), v("map", 1, 128), v("sink", 1, 128)], 6)!;
  assert.deepEqual(
    [...p],
    [
      ["src", 2],
      ["map", 6],
      ["sink", 6],
    ],
  );
});

test("SlotAllocator: slots are shared fairly between sharing groups, and lower bounds are guaranteed", () => {
  const p = determineParallelism([v("a", 1, 10, "g1"), v("b", 3, 10, "g2")], 7)!;
  assert.deepEqual(
    [...p],
    [
      ["a", 3],
      ["b", 4],
    ],
  );
  assert.equal(determineParallelism([v("a", 2, 10, "g1"), v("b", 3, 10, "g2")], 4), undefined);
});

test("SlotAllocator: max parallelism caps a vertex, forward edges get equal parallelism", () => {
  const p = determineParallelism([v("a", 1, 200, "default", 3), v("b", 1, 200)], 5, [["a", "b"]])!;
  assert.deepEqual(
    [...p],
    [
      ["a", 3],
      ["b", 3],
    ],
  );
});

test("shouldRescale: any decrease, or an increase of at least min-parallelism-increase", () => {
  const cur = new Map([["a", 4]]);
  assert.equal(shouldRescale(cur, new Map([["a", 3]]), 2), true);
  assert.equal(shouldRescale(cur, new Map([["a", 5]]), 2), false);
  assert.equal(shouldRescale(cur, new Map([["a", 6]]), 2), true);
  assert.equal(shouldRescale(cur, new Map([["a", 4]]), 1), false);
});

test("settings: Flink's defaults, and reactive mode's infinite wait without stabilization", () => {
  const d = adaptiveSchedulerSettings();
  assert.deepEqual([d.resourceWaitTimeoutMs, d.resourceStabilizationTimeoutMs, d.minParallelismIncrease, d.scalingIntervalMinMs], [300_000, 10_000, 1, 30_000]);
  const r = adaptiveSchedulerSettings({ reactive: true });
  assert.deepEqual([r.resourceWaitTimeoutMs, r.resourceStabilizationTimeoutMs], [-1, 0]);
});
