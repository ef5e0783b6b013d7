/**
 * Savepoints triggered over REST (Flink's asynchronous operations): `POST /jobs/:jid/savepoints`
 * answers a request id at once, `GET /jobs/:jid/savepoints/:rid` the operation's status. The
 * operations are kept per process in a bounded map (oldest dropped first).
 */
import { randomBytes } from "node:crypto";
import type { FailureView } from "../../schemas/dispatcher-api.js";
import { failureInfo } from "../core/errors.js";

/** Operations remembered (each a few hundred bytes). */
export const MAX_OPERATIONS = 1_000;

interface Operation {
  jobId: string;
  status: "IN_PROGRESS" | "COMPLETED";
  location?: string;
  failure?: FailureView;
}

export class SavepointOperations {
  private readonly ops = new Map<string, Operation>();

  /** Starts tracking `run` (resolving with the savepoint id) for `jobId`; answers the request id. */
  start(jobId: string, run: Promise<string>): string {
    const rid = randomBytes(16).toString("hex");
    const op: Operation = { jobId, status: "IN_PROGRESS" };
    this.ops.set(rid, op);
    while (this.ops.size > MAX_OPERATIONS) this.ops.delete(this.ops.keys().next().value!);
    run.then(
      (location) => {
        op.status = "COMPLETED";
        op.location = location;
      },
      (err: unknown) => {
        op.status = "COMPLETED";
        const f = failureInfo(err);
        op.failure = { code: f.code, name: f.name, message: f.message, ...(f.stack ? { stack: f.stack } : {}) };
      },
    );
    return rid;
  }

  /** Flink's AsynchronousOperationResult, or undefined when `rid` is not an operation of `jobId`. */
  status(jobId: string, rid: string) {
    const op = this.ops.get(rid);
    if (!op || op.jobId !== jobId) return undefined;
    if (op.status === "IN_PROGRESS") return { status: { id: "IN_PROGRESS" } };
    if (op.failure)
      return {
        status: { id: "COMPLETED" },
        operation: {
          "failure-cause": {
            class: op.failure.name,
            code: op.failure.code,
            message: op.failure.message,
            "stack-trace": op.failure.stack ?? op.failure.message,
          },
        },
      };
    return { status: { id: "COMPLETED" }, operation: { location: op.location } };
  }
}
