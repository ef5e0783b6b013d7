/** Polls a job's details and records its parallelism over time (when it runs with every subtask RUNNING). */
import type { Gateway } from "../../src/rpc/gateway.js";
import type { JobDetails } from "../../schemas/dispatcher-api.js";
import { allRunning } from "./jobs.js";

/** One change: from `at` (ms since the recorder started) the job ran at `parallelism` (max over vertices). */
export interface ParallelismSample {
  at: number;
  parallelism: number;
  vertices: number[];
}

export class ParallelismRecorder {
  readonly samples: ParallelismSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = Date.now();
  private busy = false;

  constructor(
    private readonly dispatcher: Gateway,
    private readonly jobId: string,
    private readonly everyMs = 100,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.poll(), this.everyMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const d = await this.dispatcher.ask<JobDetails>("requestJob", { jobId: this.jobId }, { timeoutMs: 2_000 });
      if (!allRunning(d)) return;
      const vertices = d.vertices.map((v) => v.parallelism);
      const p = Math.max(...vertices);
      const last = this.samples.at(-1);
      if (!last || last.vertices.join() !== vertices.join()) this.samples.push({ at: Date.now() - this.t0, parallelism: p, vertices });
    } catch {
      // a poll lost under load: the next one follows
    } finally {
      this.busy = false;
    }
  }

  /** The successive parallelisms the job ran at. */
  parallelisms(): number[] {
    return this.samples.map((s) => s.parallelism);
  }

  /** `t=0.4s p=1 → t=5.1s p=2 → ...` */
  describe(): string {
    return this.samples.map((s) => `t=${(s.at / 1000).toFixed(1)}s p=${s.vertices.join("/")}`).join(" → ");
  }
}
