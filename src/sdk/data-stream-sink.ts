/**
 * Flink's DataStreamSink, the end of a pipeline, and the setters it shares with every stream
 * (Flink's SingleOutputStreamOperator): name, uid, parallelism, slot sharing, chaining.
 */
import { checkId, checkParallelism, clip, type StreamNode } from "./stream-graph.js";

/** Setters of the node that produces a stream (Flink's SingleOutputStreamOperator). */
export abstract class NodeSetters {
  /** @internal */
  abstract get node(): StreamNode;

  /** The producing vertex's id. */
  get id(): string {
    return this.node.id;
  }
  /** Sets the vertex's display name. */
  name(name: string): this {
    this.node.name = clip(name);
    return this;
  }
  /** Sets the vertex id (`[A-Za-z0-9_-]{1,64}`, unique in the job); state is matched by it on restore. */
  uid(id: string): this {
    this.node.id = checkId(id, "uid");
    return this;
  }
  /** Sets the vertex's parallelism. */
  setParallelism(n: number): this {
    this.node.parallelism = checkParallelism(n, `parallelism of ${this.node.id}`);
    return this;
  }
  /** Sets the vertex's max parallelism (key groups). */
  setMaxParallelism(n: number): this {
    this.node.maxParallelism = checkParallelism(n, `maxParallelism of ${this.node.id}`);
    return this;
  }
  /** Puts the vertex in a slot sharing group (default "default"). */
  slotSharingGroup(group: string): this {
    this.node.slotSharingGroup = checkId(group, "slot sharing group");
    return this;
  }
  /** Never chains this vertex with its neighbours (Flink's disableChaining). */
  disableChaining(): this {
    this.node.chaining = false;
    return this;
  }
  /** Starts a new chain here: not chained to the vertex before, the ones after may chain to it (Flink's startNewChain). */
  startNewChain(): this {
    this.node.chaining = "head";
    return this;
  }
}

/** The end of a pipeline: a sink vertex. */
export class DataStreamSink extends NodeSetters {
  /** @internal */
  constructor(/** @internal */ readonly sinkNode: StreamNode) {
    super();
  }
  /** @internal */
  get node(): StreamNode {
    return this.sinkNode;
  }
}
