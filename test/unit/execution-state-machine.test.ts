import { test } from "node:test";
import assert from "node:assert/strict";
import { EXECUTION_STATES, executionStates, type ExecutionState } from "../../src/executiongraph/execution-state.js";
import { jobStatuses, type JobStatus } from "../../src/executiongraph/job-status.js";
import { IllegalStateTransitionError } from "../../src/core/errors.js";
import { ExecutionGraph } from "../../src/executiongraph/execution-graph.js";
import { graph } from "../helpers/graphs.js";

/** The full table, written independently of the machine, that the machine must equal. */
const EXPECTED_EXECUTION: Record<ExecutionState, ExecutionState[]> = {
  CREATED: ["SCHEDULED", "CANCELED", "FAILED"],
  SCHEDULED: ["DEPLOYING", "CANCELED", "FAILED"],
  DEPLOYING: ["INITIALIZING", "CANCELING", "FAILED"],
  INITIALIZING: ["RUNNING", "CANCELING", "FAILED"],
  RUNNING: ["FINISHED", "CANCELING", "FAILED"],
  CANCELING: ["CANCELED", "FAILED"],
  FINISHED: [],
  CANCELED: [],
  FAILED: [],
};

const EXPECTED_JOB: Record<JobStatus, JobStatus[]> = {
  INITIALIZING: ["CREATED", "FAILED", "CANCELED", "SUSPENDED"],
  CREATED: ["RUNNING", "CANCELLING", "CANCELED", "FAILING", "FAILED", "SUSPENDED"],
  RUNNING: ["FINISHED", "FAILING", "RESTARTING", "CANCELLING", "SUSPENDED"],
  FAILING: ["FAILED", "RESTARTING", "CANCELLING", "SUSPENDED"],
  RESTARTING: ["CREATED", "CANCELLING", "CANCELED", "FAILED", "SUSPENDED"],
  CANCELLING: ["CANCELED", "SUSPENDED"],
  FINISHED: [],
  CANCELED: [],
  FAILED: [],
  SUSPENDED: [],
};

test("execution state machine allows exactly the transitions of the table", () => {
  for (const from of EXECUTION_STATES)
    for (const to of EXECUTION_STATES) assert.equal(executionStates.can(from, to), EXPECTED_EXECUTION[from].includes(to), `${from} -> ${to}`);
});

test("an illegal execution transition throws IllegalStateTransitionError", () => {
  assert.throws(
    () => executionStates.check("CREATED", "RUNNING"),
    (e: unknown) => e instanceof IllegalStateTransitionError && e.code === "IllegalStateTransition",
  );
  assert.throws(() => executionStates.check("FINISHED", "FAILED"), IllegalStateTransitionError);
});

test("job status machine allows exactly the transitions of the table", () => {
  const all = Object.keys(EXPECTED_JOB) as JobStatus[];
  for (const from of all) for (const to of all) assert.equal(jobStatuses.can(from, to), EXPECTED_JOB[from].includes(to), `${from} -> ${to}`);
  for (const s of ["FINISHED", "CANCELED", "FAILED", "SUSPENDED"] as const) assert.ok(jobStatuses.isFinal(s));
});

test("the ExecutionGraph's XState job status refuses an illegal transition and keeps its state", () => {
  const eg = new ExecutionGraph(graph([{ id: "a", parallelism: 1 }], []));
  assert.equal(eg.state, "INITIALIZING");
  assert.throws(() => eg.transitionTo("RUNNING"), IllegalStateTransitionError);
  assert.equal(eg.state, "INITIALIZING");
  eg.transitionTo("CREATED");
  eg.transitionTo("RUNNING");
  eg.transitionTo("FINISHED");
  assert.equal(eg.state, "FINISHED");
  assert.throws(() => eg.transitionTo("RUNNING"), IllegalStateTransitionError);
  eg.dispose();
});

test("an Execution refuses illegal transitions and a restart creates a new attempt", () => {
  const eg = new ExecutionGraph(graph([{ id: "a", parallelism: 2 }], []));
  const ev = [...eg.vertices()][0]!;
  const e = ev.currentExecution;
  assert.throws(() => e.transitionTo("FINISHED"), IllegalStateTransitionError);
  assert.equal(e.state, "CREATED");
  assert.throws(() => eg.newAttempt(ev), /cannot reset/);
  e.transitionTo("FAILED");
  const e2 = eg.newAttempt(ev);
  assert.equal(e2.attemptNumber, 1);
  assert.equal(e2.state, "CREATED");
  assert.deepEqual(ev.priorExecutions, [e]);
  assert.equal(eg.execution(e.attemptId), e);
  assert.equal(eg.execution(e2.attemptId), e2);
  eg.dispose();
});
