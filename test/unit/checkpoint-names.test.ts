/**
 * Object names of checkpoints and savepoints: their format, that the prefix the JobMaster deletes
 * covers every object the Task writes for the same checkpoint and nothing of another one, and that a
 * segment which could reach into other objects is refused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, ValidationError } from "../../src/core/errors.js";
import {
  checkpointObjectName,
  checkpointPrefix,
  jobPrefix,
  savepointIdOf,
  savepointObjectName,
  savepointPrefix,
  snapshotObjectName,
  snapshotPrefix,
  type SnapshotKind,
} from "../../src/checkpoint/index.js";

const malformed = (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.MalformedRequest;

test("checkpoint and savepoint objects are named <jobId>/chk-<id>/... and savepoints/<savepointId>/...", () => {
  assert.equal(checkpointObjectName("job1", 7, "op-a", 3, "keyed"), "job1/chk-7/op-a-3-keyed");
  assert.equal(savepointObjectName("sp-00ff", "op", 0, "operator"), "savepoints/sp-00ff/op-0-operator");
  assert.equal(checkpointPrefix("job1", 7), "job1/chk-7/");
  assert.equal(jobPrefix("job1"), "job1/");
  assert.equal(savepointPrefix("sp-1"), "savepoints/sp-1/");
});

test("the savepoint taken as a checkpoint is named after the job and the checkpoint id", () => {
  const jobId = "0123456789abcdef0123456789abcdef";
  assert.equal(savepointIdOf(jobId, 42), "sp-0123456789ab-42");
  assert.equal(snapshotPrefix(jobId, 42, "SAVEPOINT"), savepointPrefix(savepointIdOf(jobId, 42)));
  assert.equal(snapshotObjectName(jobId, 42, "SAVEPOINT", "sum", 1, "keyed"), savepointObjectName("sp-0123456789ab-42", "sum", 1, "keyed"));
  assert.equal(snapshotPrefix(jobId, 42, "CHECKPOINT"), checkpointPrefix(jobId, 42));
  assert.equal(snapshotObjectName(jobId, 42, "CHECKPOINT", "sum", 1, "keyed"), checkpointObjectName(jobId, 42, "sum", 1, "keyed"));
});

test("a snapshot's prefix covers every object of its checkpoint and none of another checkpoint or job", () => {
  const kinds: SnapshotKind[] = ["CHECKPOINT", "SAVEPOINT"];
  const objects: Array<{ jobId: string; kind: SnapshotKind; id: number; name: string }> = [];
  for (const jobId of ["jobA", "jobAB"]) {
    for (const kind of kinds) {
      for (const id of [1, 10]) objects.push({ jobId, kind, id, name: snapshotObjectName(jobId, id, kind, "op-1", 2, "operator") });
    }
  }
  for (const o of objects) {
    const prefix = snapshotPrefix(o.jobId, o.id, o.kind);
    assert.ok(prefix.endsWith("/"), `${prefix} is a deletion prefix`);
    const covered = objects.filter((x) => x.name.startsWith(prefix)).map((x) => x.name);
    assert.deepEqual(covered, [o.name], `${prefix} covers only its own checkpoint's object`);
    if (o.kind === "CHECKPOINT") assert.ok(o.name.startsWith(jobPrefix(o.jobId)), "a checkpoint's objects go with its job");
    else assert.ok(!o.name.startsWith(jobPrefix(o.jobId)), "a savepoint's objects outlive its job");
  }
});

test("a segment that could reach into other objects is refused with MalformedRequest", () => {
  assert.throws(() => checkpointObjectName("a/b", 1, "op", 0, "keyed"), malformed);
  assert.throws(() => checkpointObjectName("job", -1, "op", 0, "keyed"), malformed);
  assert.throws(() => checkpointObjectName("job", 1.5, "op", 0, "keyed"), malformed);
  assert.throws(() => checkpointObjectName("job", 1, "op.x", 0, "keyed"), malformed);
  assert.throws(() => checkpointObjectName("job", 1, "op", -1, "keyed"), malformed);
  assert.throws(() => checkpointObjectName("job", 1, "op", 0, "../keyed"), malformed);
  assert.throws(() => jobPrefix("savepoints"), malformed, "a job named like the savepoints' folder would own them");
  assert.throws(() => jobPrefix(""), malformed);
  assert.throws(() => savepointPrefix("sp/1"), malformed);
  assert.throws(() => savepointIdOf("savepoints", 1), malformed);
  assert.throws(() => snapshotPrefix("job", -1, "SAVEPOINT"), malformed);
});
