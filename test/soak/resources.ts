/**
 * Samples the resident memory (VmRSS) and thread count of the soak's processes from /proc, every few
 * seconds, for the leak checks: RSS flat after warm-up, no slot threads left behind.
 */
import { readdirSync, readFileSync } from "node:fs";

/** One sample of one process. */
export interface ResourceSample {
  t: number;
  rssKb: number;
  threads: number;
}

/** VmRSS (kB) and thread count of `pid` now, or undefined when it is gone. */
export function sampleProcess(pid: number): Omit<ResourceSample, "t"> | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    const threads = readdirSync(`/proc/${pid}/task`).length;
    return rss ? { rssKb: Number(rss[1]), threads } : undefined;
  } catch {
    return undefined;
  }
}

/** Samples of every process it is told about, by a label of the process. */
export class ResourceSampler {
  readonly samples = new Map<string, { pid: number; samples: ResourceSample[] }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly targets: () => Array<{ label: string; pid: number }>,
    private readonly everyMs = 2_000,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  sample(): void {
    const t = Date.now();
    for (const { label, pid } of this.targets()) {
      const s = sampleProcess(pid);
      if (!s) continue;
      const key = `${label} (pid ${pid})`;
      const entry = this.samples.get(key) ?? { pid, samples: [] };
      entry.samples.push({ t, ...s });
      this.samples.set(key, entry);
    }
  }
}
