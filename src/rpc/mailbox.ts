/**
 * A single-consumer queue of jobs run strictly one at a time, in arrival order, like Flink's
 * main-thread executor: code run through one mailbox needs no locks.
 */
export class Mailbox {
  private readonly queue: Array<() => Promise<void>> = [];
  private running = false;
  private closed = false;

  /** Enqueues `fn`; resolves or rejects with its result once it has run. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error("mailbox closed"));
    return new Promise<T>((resolve, reject) => {
      this.queue.push(async () => {
        try {
          resolve(await fn());
        } catch (e) {
          reject(e);
        }
      });
      if (!this.running) void this.drain();
    });
  }

  /** Number of jobs waiting. */
  get size(): number {
    return this.queue.length;
  }

  /** Refuses further jobs; queued ones still run. */
  close(): void {
    this.closed = true;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) await job();
    } finally {
      this.running = false;
    }
  }
}
