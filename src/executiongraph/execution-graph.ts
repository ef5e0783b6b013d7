import { createActor, type Actor as XActor } from "xstate";
import { IllegalStateTransitionError, type FailureInfo } from "../core/errors.js";
import type { JobGraph } from "../jobgraph/types.js";
import { connect } from "./edge-builder.js";
import type { Execution } from "./execution.js";
import { ExecutionJobVertex } from "./execution-job-vertex.js";
import type { ExecutionVertex } from "./execution-vertex.js";
import { IntermediateResult } from "./intermediate-result.js";
import { jobStatusMachine, type JobStatus } from "./job-status.js";

/**
 * The parallel form of a JobGraph (Flink's ExecutionGraph): an ExecutionJobVertex per JobVertex
 * (topological order), an ExecutionVertex per subtask, an IntermediateResult per JobEdge, and the
 * job status as an XState actor of {@link jobStatusMachine}.
 */
export class ExecutionGraph {
  readonly jobVertices = new Map<string, ExecutionJobVertex>();
  readonly results: IntermediateResult[] = [];
  private readonly executions = new Map<string, Execution>();
  private readonly status: XActor<typeof jobStatusMachine>;
  readonly statusTimestamps: Partial<Record<JobStatus, number>> = {};
  failureCause: FailureInfo | undefined;
  /** Bumped whenever an ExecutionVertex gets a new attempt (invalidates cached deployment data). */
  version = 0;
  private terminal = 0;
  private finished = 0;

  constructor(readonly jobGraph: JobGraph) {
    for (const v of jobGraph.vertices) {
      const ejv = new ExecutionJobVertex(v);
      ejv.graph = this;
      this.jobVertices.set(v.id, ejv);
    }
    jobGraph.edges.forEach((e, i) => {
      const up = this.jobVertices.get(e.source)!;
      const down = this.jobVertices.get(e.target)!;
      const r = new IntermediateResult(`r${i}`, e, up, down);
      up.producedResults.push(r);
      down.inputs.push(r);
      this.results.push(r);
      connect(r);
    });
    for (const ejv of this.jobVertices.values()) for (const ev of ejv.taskVertices) this.register(ev.currentExecution);
    this.status = createActor(jobStatusMachine).start();
    this.statusTimestamps.INITIALIZING = Date.now();
  }

  get jobId(): string {
    return this.jobGraph.jobId;
  }
  get jobName(): string {
    return this.jobGraph.name;
  }

  /** The current job status. */
  get state(): JobStatus {
    return this.status.getSnapshot().value as JobStatus;
  }

  /** Moves the job to `to`; an illegal transition throws and changes nothing. */
  transitionTo(to: JobStatus): void {
    const from = this.state;
    if (!this.status.getSnapshot().can({ type: to })) throw new IllegalStateTransitionError("JobStatus", from, to);
    this.status.send({ type: to });
    this.statusTimestamps[to] = Date.now();
  }

  /** True when the job status machine allows `to` from the current status. */
  canTransitionTo(to: JobStatus): boolean {
    return this.status.getSnapshot().can({ type: to });
  }

  /** Every ExecutionVertex in topological order. */
  *vertices(): Iterable<ExecutionVertex> {
    for (const ejv of this.jobVertices.values()) yield* ejv.taskVertices;
  }

  /** The current Execution of every subtask. */
  *currentExecutions(): Iterable<Execution> {
    for (const v of this.vertices()) yield v.currentExecution;
  }

  /** Looks up a current or prior Execution by attempt id. */
  execution(attemptId: string): Execution | undefined {
    return this.executions.get(attemptId);
  }

  /** Current executions in a final state. */
  get terminalCount(): number {
    return this.terminal;
  }

  /** Current executions FINISHED. */
  get finishedCount(): number {
    return this.finished;
  }

  /** Keeps the counts of final and finished current executions (called by Execution). */
  executionTransitioned(e: Execution, _from: string, to: string): void {
    if (e !== e.vertex.currentExecution) return;
    if (e.isTerminal) this.terminal++;
    if (to === "FINISHED") this.finished++;
  }

  /** Starts a new attempt of `ev` (after a failure) and indexes it. */
  newAttempt(ev: ExecutionVertex): Execution {
    const old = ev.currentExecution;
    if (old.isTerminal) this.terminal--;
    if (old.state === "FINISHED") this.finished--;
    const e = ev.resetForNewExecution();
    this.version++;
    this.register(e);
    return e;
  }

  get totalSubtasks(): number {
    let n = 0;
    for (const ejv of this.jobVertices.values()) n += ejv.parallelism;
    return n;
  }

  /** Stops the status actor. */
  dispose(): void {
    this.status.stop();
  }

  private register(e: Execution): void {
    this.executions.set(e.attemptId, e);
  }
}
