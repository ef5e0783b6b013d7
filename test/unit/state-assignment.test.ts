/**
 * Which state each new subtask restores (StateAssignmentOperation), with finished subtasks and
 * operators (FLIP-147): finished ones are restored as "finished" and not run again.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { assignState, isFullyFinished } from "../../src/checkpoint/state-assignment.js";
import type { CompletedCheckpoint, SubtaskStateSnapshot } from "../../src/checkpoint/types.js";
import { ValidationError } from "../../src/core/errors.js";

const MAXP = 128;
const handle = (name: string, start: number, end: number) => ({ object: name, bytes: 10, keyGroupRange: { start, end }, maxParallelism: MAXP });

function checkpoint(vertices: CompletedCheckpoint["vertices"], finishedOperators?: string[]): CompletedCheckpoint {
  return {
    jobId: "j",
    checkpointId: 7,
    kind: "CHECKPOINT",
    timestamp: 1,
    completedAt: 2,
    formatVersion: 1,
    vertices,
    bytes: 0,
    ...(finishedOperators ? { finishedOperators } : {}),
  };
}
const finished: SubtaskStateSnapshot = { operators: {}, finished: true };
const keyed = (id: string, i: number, start: number, end: number): SubtaskStateSnapshot => ({
  operators: { [id]: { keyed: handle(`${id}-${i}`, start, end) } },
});

test("an operator finished in every subtask is finished on restore at any parallelism", () => {
  const cp = checkpoint({ src: { parallelism: 2, maxParallelism: MAXP, subtasks: [finished, finished] } });
  assert.equal(isFullyFinished(cp, "src"), true);
  for (const p of [1, 2, 3])
    for (let i = 0; i < p; i++) assert.deepEqual(assignState(cp, ["src"], i, p, MAXP), { checkpointId: 7, operators: {}, finished: true });
  assert.equal(isFullyFinished(checkpoint({}, ["x"]), "x"), true, "finishedOperators is read as well");
});

test("a partly finished operator: its finished subtasks finish on restore, the others restore their state; another parallelism is refused", () => {
  const cp = checkpoint({ sink: { parallelism: 2, maxParallelism: MAXP, subtasks: [finished, keyed("sink", 1, 64, 127)] } });
  assert.equal(isFullyFinished(cp, "sink"), false);
  assert.equal(assignState(cp, ["sink"], 0, 2, MAXP)?.finished, true);
  const r1 = assignState(cp, ["sink"], 1, 2, MAXP);
  assert.equal(r1?.finished, undefined);
  assert.equal(r1?.operators.sink?.keyed[0]?.object, "sink-1");
  assert.throws(
    () => assignState(cp, ["sink"], 0, 3, MAXP),
    (e: unknown) => e instanceof ValidationError && e.code === "InvalidJobGraph" && /finished in some of its 2 subtasks/.test(e.message),
  );
});

test("a chain is finished on restore only when all of its operators are", () => {
  const cp = checkpoint({
    a: { parallelism: 1, maxParallelism: MAXP, subtasks: [finished] },
    b: { parallelism: 1, maxParallelism: MAXP, subtasks: [keyed("b", 0, 0, 127)] },
  });
  const r = assignState(cp, ["a", "b"], 0, 1, MAXP);
  assert.equal(r?.finished, undefined);
  assert.equal(r?.operators.b?.keyed.length, 1);
  assert.equal(assignState(cp, ["a"], 0, 1, MAXP)?.finished, true);
  assert.equal(assignState(cp, ["c"], 0, 1, MAXP), undefined, "an operator the checkpoint does not know starts empty");
});
