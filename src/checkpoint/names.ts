/**
 * Object names of snapshot state in checkpoint storage, defined here only: the Task names what it
 * writes and the JobMaster what it deletes with the same functions, so a discarded checkpoint's
 * prefix always covers every object its tasks wrote.
 *
 * - checkpoints: `<jobId>/chk-<id>/<operatorId>-<subtask>-<kind>`
 * - savepoints: `savepoints/<savepointId>/<operatorId>-<subtask>-<kind>`
 *
 * (`kind` such as `keyed`, `operator`, `raw`.) Everything of a checkpoint, of a job or of a savepoint
 * shares one prefix ending in `/`, which is what a deletion by prefix takes. Every part is checked:
 * a segment that could reach into another job's or savepoint's objects is a ValidationError
 * (MalformedRequest) instead of a name.
 */
import { ErrorCode, ValidationError } from "../core/errors.js";
import type { SnapshotKind } from "./types.js";

const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** The first segment of savepoint names: no job may use it as its id. */
const SAVEPOINTS = "savepoints";

function segment(what: string, v: string): string {
  if (!SEGMENT.test(v)) throw new ValidationError(ErrorCode.MalformedRequest, `${what} "${v}" must match [A-Za-z0-9_-]+`);
  return v;
}

function jobSegment(jobId: string): string {
  segment("job id", jobId);
  if (jobId === SAVEPOINTS) throw new ValidationError(ErrorCode.MalformedRequest, `"${jobId}" is reserved and cannot be a job id`);
  return jobId;
}

function positiveInt(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new ValidationError(ErrorCode.MalformedRequest, `${what} must be a non-negative integer, got ${n}`);
  return n;
}

/** `<jobId>/`: every object of a job's checkpoints. */
export function jobPrefix(jobId: string): string {
  return `${jobSegment(jobId)}/`;
}

/** `<jobId>/chk-<id>/`: every object of one checkpoint. */
export function checkpointPrefix(jobId: string, checkpointId: number): string {
  return `${jobPrefix(jobId)}chk-${positiveInt("checkpoint id", checkpointId)}/`;
}

/** `savepoints/<savepointId>/`: every object of one savepoint. */
export function savepointPrefix(savepointId: string): string {
  return `${SAVEPOINTS}/${segment("savepoint id", savepointId)}/`;
}

/**
 * The id of the savepoint taken as checkpoint `checkpointId` of `jobId`: derived, not random, so
 * that the Task (naming its objects) and the JobMaster (recording the savepoint) agree on it without
 * sending it along with every trigger.
 */
export function savepointIdOf(jobId: string, checkpointId: number): string {
  return `sp-${jobSegment(jobId).slice(0, 12)}-${positiveInt("checkpoint id", checkpointId)}`;
}

/** The prefix of every object of checkpoint `checkpointId` of `jobId`, or of the savepoint taken as it. */
export function snapshotPrefix(jobId: string, checkpointId: number, kind: SnapshotKind): string {
  return kind === "SAVEPOINT" ? savepointPrefix(savepointIdOf(jobId, checkpointId)) : checkpointPrefix(jobId, checkpointId);
}

function pieceName(operatorId: string, subtask: number, kind: string): string {
  return `${segment("operator id", operatorId)}-${positiveInt("subtask", subtask)}-${segment("kind", kind)}`;
}

/** Object name of one piece of a subtask's checkpoint: `<jobId>/chk-<id>/<operatorId>-<subtask>-<kind>`. */
export function checkpointObjectName(jobId: string, checkpointId: number, operatorId: string, subtask: number, kind: string): string {
  return `${checkpointPrefix(jobId, checkpointId)}${pieceName(operatorId, subtask, kind)}`;
}

/** Object name of one piece of a subtask's savepoint: `savepoints/<savepointId>/<operatorId>-<subtask>-<kind>`. */
export function savepointObjectName(savepointId: string, operatorId: string, subtask: number, kind: string): string {
  return `${savepointPrefix(savepointId)}${pieceName(operatorId, subtask, kind)}`;
}

/** Object name of one piece of a subtask's snapshot: under {@link snapshotPrefix} of the same checkpoint. */
export function snapshotObjectName(jobId: string, checkpointId: number, snapshot: SnapshotKind, operatorId: string, subtask: number, kind: string): string {
  return `${snapshotPrefix(jobId, checkpointId, snapshot)}${pieceName(operatorId, subtask, kind)}`;
}
