import type { ExecutionGraph } from "../../executiongraph/execution-graph.js";
import type { ExecutionJobVertex } from "../../executiongraph/execution-job-vertex.js";
import type { ConsumedPartitionGroup } from "../../executiongraph/intermediate-result.js";
import type { AdaptiveBatchConfig, JobGraph } from "../../jobgraph/types.js";
import type { Logger } from "../../core/logger.js";
import { PRODUCED_BYTES_ACCUMULATOR } from "../../network/blocking-producer.js";
import { DefaultScheduler, type DefaultSchedulerOptions } from "../default-scheduler.js";
import type { SchedulerContext } from "../scheduler-ng.js";

/** Flink's defaults of execution.batch.adaptive.auto-parallelism.* (1.18). */
export const ADAPTIVE_BATCH_DEFAULTS: Readonly<Required<AdaptiveBatchConfig>> = Object.freeze({
  minParallelism: 1,
  maxParallelism: 128,
  avgDataVolumePerTaskBytes: 16 * 1024 * 1024,
});

/**
 * The vertices whose parallelism is decided at runtime: not sources, every input an ALL_TO_ALL
 * BLOCKING exchange other than broadcast, and every consumer also decided at runtime (a consumer
 * with a fixed parallelism needs its producers' partitions fixed when it is built).
 */
export function dynamicVerticesOf(jobGraph: JobGraph): Set<string> {
  const ins = new Map<string, JobGraph["edges"]>();
  const outs = new Map<string, JobGraph["edges"]>();
  for (const e of jobGraph.edges) {
    (ins.get(e.target) ?? ins.set(e.target, []).get(e.target)!).push(e);
    (outs.get(e.source) ?? outs.set(e.source, []).get(e.source)!).push(e);
  }
  const dyn = new Set<string>();
  for (const v of jobGraph.vertices) {
    const i = ins.get(v.id) ?? [];
    if (i.length && i.every((e) => e.resultPartitionType === "BLOCKING" && e.distribution === "ALL_TO_ALL" && e.partitioner !== "broadcast")) dyn.add(v.id);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const id of [...dyn])
      if ((outs.get(id) ?? []).some((e) => !dyn.has(e.target))) {
        dyn.delete(id);
        changed = true;
      }
  }
  return dyn;
}

/**
 * The parallelism for `bytes` of input (Flink's DefaultVertexParallelismAndInputInfosDecider, by
 * data volume): ceil(bytes / bytes-per-task), bounded by min and max parallelism and by the
 * vertex's own max parallelism.
 */
export function decideParallelism(bytes: number, cfg: Required<AdaptiveBatchConfig>, vertexMaxParallelism: number): number {
  const max = Math.max(1, Math.min(cfg.maxParallelism, vertexMaxParallelism));
  const min = Math.min(cfg.minParallelism, max);
  return Math.max(min, Math.min(max, Math.ceil(bytes / cfg.avgDataVolumePerTaskBytes)));
}

/**
 * Flink's AdaptiveBatchScheduler: the DefaultScheduler (pipelined regions, failover) on an
 * ExecutionGraph whose downstream vertices are initialized late. When every input of such a vertex
 * is complete, the bytes its producers wrote decide its parallelism, the ExecutionJobVertex is
 * initialized at it, and its subtasks are scheduled.
 */
export class AdaptiveBatchScheduler extends DefaultScheduler {
  private readonly cfg: Required<AdaptiveBatchConfig>;
  /** Decided parallelism per vertex, for status and tests. */
  readonly decided = new Map<string, { parallelism: number; bytes: number }>();

  constructor(graph: ExecutionGraph, ctx: SchedulerContext, log: Logger, opts: DefaultSchedulerOptions = {}) {
    super(graph, ctx, log, opts);
    this.cfg = { ...ADAPTIVE_BATCH_DEFAULTS, ...(graph.jobGraph.config.adaptiveBatch ?? {}) };
  }

  protected override onGroupComplete(g: ConsumedPartitionGroup): void {
    const consumer = g.result.consumer;
    if (!consumer.dynamic || consumer.initialized) return;
    for (const r of consumer.inputs) for (const other of r.groups) if (!this.isComplete(other)) return;
    const bytes = this.inputBytes(consumer);
    const p = decideParallelism(bytes, this.cfg, consumer.maxParallelism);
    this.graph.initializeJobVertex(consumer.id, p);
    this.decided.set(consumer.id, { parallelism: p, bytes });
    this.log.info({ vertex: consumer.id, bytes, parallelism: p, bytesPerTask: this.cfg.avgDataVolumePerTaskBytes }, "parallelism decided from the input size");
    this.rebuildTopology();
  }

  /** Bytes the finished producers wrote into `v`'s inputs. */
  private inputBytes(v: ExecutionJobVertex): number {
    let n = 0;
    for (const r of v.inputs) for (const p of r.partitions) n += p.producer.currentExecution.accumulators[PRODUCED_BYTES_ACCUMULATOR + r.id] ?? 0;
    return n;
  }
}
