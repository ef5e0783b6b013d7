import type { NatsConnection } from "@nats-io/transport-node";
import type { JobGraph } from "../jobgraph/types.js";
import { getValue, listKeys, openBucket, putValue, type KV } from "./kv.js";

/**
 * The submitted JobGraphs of unfinished jobs (Flink's ExecutionPlanStore / JobGraphStore), one KV
 * entry per job id. A job's entry is removed once its result is recorded.
 */
export class ExecutionPlanStore {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, bucket: string): Promise<ExecutionPlanStore> {
    return new ExecutionPlanStore(await openBucket(nc, bucket));
  }

  async put(graph: JobGraph): Promise<void> {
    await putValue(this.kv, graph.jobId, graph);
  }

  async get(jobId: string): Promise<JobGraph | undefined> {
    return (await getValue<JobGraph>(this.kv, jobId))?.value;
  }

  async remove(jobId: string): Promise<void> {
    await this.kv.purge(jobId);
  }

  async jobIds(): Promise<string[]> {
    return listKeys(this.kv);
  }
}
