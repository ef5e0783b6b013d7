/** The subject of every actor, under one prefix. The single place where subjects are spelled. */
export class Subjects {
  constructor(readonly prefix: string) {}
  /** Dispatcher (public API: `<prefix>.dispatcher.<method>`). */
  get dispatcher(): string {
    return `${this.prefix}.dispatcher`;
  }
  get resourceManager(): string {
    return `${this.prefix}.rm`;
  }
  jobMaster(jobId: string): string {
    return `${this.prefix}.jm.${jobId}`;
  }
  taskExecutor(teId: string): string {
    return `${this.prefix}.te.${teId}`;
  }
  task(attemptId: string): string {
    return `${this.prefix}.task.${attemptId}`;
  }
  /** Data-plane subject where a consumer task receives buffers. */
  data(consumerAttemptId: string): string {
    return `${this.prefix}.data.${consumerAttemptId}`;
  }
  /** Data-plane subject where a producer task receives partition requests and credit. */
  credit(producerAttemptId: string): string {
    return `${this.prefix}.credit.${producerAttemptId}`;
  }
  /** KV bucket names (JetStream bucket names allow [A-Za-z0-9_-]). */
  bucket(name: "jobgraphs" | "jobresults" | "leaders" | "checkpoints"): string {
    return `${this.prefix}_${name}`;
  }
}
