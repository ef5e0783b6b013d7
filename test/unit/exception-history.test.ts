import { test } from "node:test";
import assert from "node:assert/strict";
import { ExceptionHistory, ExecutionGraph } from "../../src/executiongraph/index.js";
import { ErrorCode } from "../../src/core/errors.js";
import { graph } from "../helpers/graphs.js";

const lost = (te: string) => ({ code: ErrorCode.TaskExecutorLost, name: "EddyError", message: `TaskExecutor ${te} lost: gone` });

test("a task failure names its task and the TaskExecutor it ran on, with the host when known", () => {
  const eg = new ExecutionGraph(graph([{ id: "src", parallelism: 2 }], []));
  const e = eg.jobVertices.get("src")!.taskVertices[1]!.currentExecution;
  e.slot = { allocationId: "a".repeat(32), taskExecutorId: "te_1", slotIndex: 0 };
  const h = new ExceptionHistory();
  h.hostOf = (id) => (id === "te_1" ? "worker-7" : undefined);
  h.recordTaskFailure(e, lost("te_1"), 1_000);
  const [entry] = h.view().entries;
  assert.deepEqual(entry, {
    exceptionName: "EddyError",
    stacktrace: "EddyError: TaskExecutor te_1 lost: gone",
    timestamp: 1_000,
    code: ErrorCode.TaskExecutorLost,
    taskName: "src (2/2)",
    location: "te_1 (worker-7)",
    taskManagerId: "te_1",
  });
});

test("the history is newest first and bounded; a global failure has no task and no location", () => {
  const h = new ExceptionHistory(3);
  for (let i = 1; i <= 5; i++)
    h.recordGlobalFailure({ code: ErrorCode.TaskFailed, name: "CheckpointException", message: `failure ${i}`, stack: `stack ${i}` }, i);
  const v = h.view();
  assert.equal(v.truncated, true);
  assert.deepEqual(
    v.entries.map((e) => e.timestamp),
    [5, 4, 3],
  );
  assert.equal(v.entries[0]!.taskName, null);
  assert.equal(v.entries[0]!.location, null);
  assert.equal(v.entries[0]!.stacktrace, "CheckpointException: failure 5\nstack 5", "a stack without the message gets it as its first line");
});
