/**
 * Answers shared between requests for a moment, as Flink's ExecutionGraphCache shares a job's graph
 * between REST handlers: a page that asks for a job at parallelism 1,000 several times a second costs
 * the Dispatcher one answer per moment, not one per request. A failed read is not kept.
 */
export class ShortLived<K, V> {
  private readonly entries = new Map<K, { at: number; value: Promise<V> }>();

  constructor(
    /** How long an answer is reused, ms. */
    readonly ttlMs: number,
    /** Entries kept at most; expired ones are dropped first, then all. */
    private readonly maxEntries = 256,
  ) {}

  /** The answer for `key` read less than `ttlMs` ago, else a new one from `load`. */
  get(key: K, load: () => Promise<V>): Promise<V> {
    const now = performance.now();
    const cached = this.entries.get(key);
    if (cached && now - cached.at < this.ttlMs) return cached.value;
    if (this.entries.size >= this.maxEntries) this.drop(now);
    const entry = { at: now, value: load() };
    this.entries.set(key, entry);
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.value;
  }

  /** Forgets every answer: after a write, the next read asks again. */
  clear(): void {
    this.entries.clear();
  }

  private drop(now: number): void {
    for (const [k, e] of this.entries) if (now - e.at >= this.ttlMs) this.entries.delete(k);
    if (this.entries.size >= this.maxEntries) this.entries.clear();
  }
}
