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
  /** Every metric report (what a MetricStore subscribes to): `<prefix>.metrics.>`. */
  get metrics(): string {
    return `${this.prefix}.metrics.>`;
  }
  /** A TaskExecutor's metric report. */
  metricsTaskExecutor(teId: string): string {
    return `${this.prefix}.metrics.te.${teId}`;
  }
  /** A JobMaster's report of its job's metrics. */
  metricsJob(jobId: string): string {
    return `${this.prefix}.metrics.job.${jobId}`;
  }
  /** The ResourceManager's cluster metrics. */
  get metricsCluster(): string {
    return `${this.prefix}.metrics.cluster`;
  }
  /**
   * JetStream stream holding the BLOCKING result partitions of job `jobId` (names allow no dots).
   * Its subjects are {@link blockingJobSubjects}.
   */
  blockingStream(jobId: string): string {
    return `${this.prefix}_bp_${jobId}`;
  }
  /** Every subject of job `jobId`'s BLOCKING partitions: `<prefix>.bp.<jobId>.>`. */
  blockingJobSubjects(jobId: string): string {
    return `${this.prefix}.bp.${jobId}.>`;
  }
  /** Every subject written by one producer attempt: `<prefix>.bp.<jobId>.<producerAttemptId>.>`. */
  blockingAttemptSubjects(jobId: string, producerAttemptId: string): string {
    return `${this.prefix}.bp.${jobId}.${producerAttemptId}.>`;
  }
  /**
   * One subpartition of a BLOCKING result partition:
   * `<prefix>.bp.<jobId>.<producerAttemptId>.<resultId>.<subpartitionIndex>` (the result id tells
   * apart the partitions of a producer with several BLOCKING outputs).
   */
  blockingSubpartition(jobId: string, producerAttemptId: string, resultId: string, subpartitionIndex: number): string {
    return `${this.prefix}.bp.${jobId}.${producerAttemptId}.${resultId}.${subpartitionIndex}`;
  }
  /**
   * KV and Object Store bucket names (JetStream bucket names allow [A-Za-z0-9_-]). `state` is the
   * Object Store bucket of checkpoint and savepoint bytes.
   */
  bucket(name: "jobgraphs" | "jobresults" | "leaders" | "leases" | "checkpoints" | "state" | "bundles"): string {
    return `${this.prefix}_${name}`;
  }
}
