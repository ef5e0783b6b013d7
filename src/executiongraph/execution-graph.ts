import { createActor, type Actor as XActor } from "xstate";
import { IllegalStateTransitionError, type FailureInfo } from "../core/errors.js";
import type { JobGraph } from "../jobgraph/types.js";
import { connect } from "./edge-builder.js";
import type { Execution } from "./execution.js";
import { ExecutionJobVertex } from "./execution-job-vertex.js";
import { ExecutionVertex } from "./execution-vertex.js";
import { IntermediateResult } from "./intermediate-result.js";
import { jobStatusMachine, type JobStatus } from "./job-status.js";
import { ExceptionHistory } from "./exception-history.js";

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
  /** Every failure the scheduler handled, newest first (the REST exception history). */
  readonly exceptionHistory = new ExceptionHistory();
  /** Bumped whenever an ExecutionVertex gets a new attempt (invalidates cached deployment data). */
  version = 0;
  private terminal = 0;
  private finished = 0;

  /**
   * @param dynamicVertices vertices whose parallelism is decided at runtime (adaptive batch
   *   scheduling); they start with one placeholder subtask and are initialized later.
   */
  constructor(
    readonly jobGraph: JobGraph,
    dynamicVertices: ReadonlySet<string> = new Set(),
  ) {
    this.build(dynamicVertices);
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

  private build(dynamicVertices: ReadonlySet<string>): void {
    const jobGraph = this.jobGraph;
    for (const v of jobGraph.vertices) {
      const ejv = new ExecutionJobVertex(v, dynamicVertices.has(v.id));
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
  }

  /**
   * Builds every ExecutionJobVertex again at new parallelisms (the AdaptiveScheduler's new
   * ExecutionGraph after a rescale), keeping the job status. Every current execution must be final or CREATED;
   * prior attempts stay known so their late reports are recognized as stale.
   */
  reinitialize(parallelism: ReadonlyMap<string, number>): void {
    for (const e of this.currentExecutions())
      if (!e.isTerminal && e.state !== "CREATED") throw new Error(`cannot rebuild an ExecutionGraph while ${e} is ${e.state}`);
    for (let i = 0; i < this.jobGraph.vertices.length; i++) {
      const v = this.jobGraph.vertices[i]!;
      const p = parallelism.get(v.id);
      if (p !== undefined && p !== v.parallelism) this.jobGraph.vertices[i] = { ...v, parallelism: p };
    }
    this.jobVertices.clear();
    this.results.length = 0;
    this.terminal = 0;
    this.finished = 0;
    this.version++;
    this.build(new Set());
  }

  /**
   * Decides the parallelism of a dynamic vertex whose subtasks have not been scheduled (Flink's
   * DefaultExecutionGraph.initializeJobVertex): its subtasks are created at `parallelism` and its
   * inputs and outputs connected again.
   */
  initializeJobVertex(id: string, parallelism: number): ExecutionJobVertex {
    const ejv = this.jobVertices.get(id);
    if (!ejv?.dynamic || ejv.initialized) throw new Error(`vertex ${id} is not waiting for its parallelism`);
    for (const ev of ejv.taskVertices) if (ev.currentExecution.state !== "CREATED") throw new Error(`vertex ${id} is already scheduled`);
    for (const ev of ejv.taskVertices) this.executions.delete(ev.currentExecution.attemptId);
    const spec = { ...ejv.jobVertex, parallelism };
    const i = this.jobGraph.vertices.findIndex((v) => v.id === id);
    if (i >= 0) this.jobGraph.vertices[i] = spec;
    ejv.jobVertex = spec;
    ejv.initialized = true;
    ejv.taskVertices = Array.from({ length: parallelism }, (_, k) => new ExecutionVertex(ejv, k));
    for (const r of [...ejv.inputs, ...ejv.producedResults]) {
      for (const ev of r.producer.taskVertices)
        ev.producedPartitions.splice(0, ev.producedPartitions.length, ...ev.producedPartitions.filter((p) => p.result !== r));
      for (const ev of r.consumer.taskVertices)
        ev.consumedPartitionGroups.splice(0, ev.consumedPartitionGroups.length, ...ev.consumedPartitionGroups.filter((g) => g.result !== r));
      r.clear();
      connect(r);
    }
    // Keep the per-vertex lists in the order of the job vertex's results and inputs.
    const touched = new Set<ExecutionJobVertex>([ejv]);
    for (const r of ejv.inputs) touched.add(r.producer);
    for (const r of ejv.producedResults) touched.add(r.consumer);
    for (const v of touched)
      for (const ev of v.taskVertices) {
        ev.producedPartitions.sort((a, b) => v.producedResults.indexOf(a.result) - v.producedResults.indexOf(b.result));
        ev.consumedPartitionGroups.sort((a, b) => v.inputs.indexOf(a.result) - v.inputs.indexOf(b.result));
      }
    for (const ev of ejv.taskVertices) this.register(ev.currentExecution);
    this.version++;
    return ejv;
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
