/**
 * The splits of `source.jetstream` and who reads which (Flink's FLIP-27 split enumerator and
 * assigner, without a coordinator): every subtask computes the same assignment from the same input,
 * the job's config and the stream's subject partitions at the first start, or the union of all
 * subtasks' split states after a restore. A split is a subject filter (a partition, or the
 * source's filter) over a range of stream sequences; its `next` sequence is its position.
 */

/** One split and its position; what the source keeps in operator state. */
export interface JetStreamSplit {
  /** Unique among the source's splits; a split cut in two gets `<id>.0` and `<id>.1`. */
  id: string;
  /** Subject filter (absent: the whole stream). */
  filter?: string;
  /** The next stream sequence to read. */
  next: number;
  /** The last sequence of the split (inclusive); absent: it follows the stream. */
  end?: number;
  /** Highest message timestamp (ms) the split emitted, for its watermark after a restore. */
  ts?: number;
}

/** What the first start's splits depend on. */
export interface InitialSplitInput {
  startSeq: number;
  endSeq?: number;
  filterSubject?: string;
  /** One subject filter per partition of the stream (see {@link partitionFilters}); empty: none. */
  partitions: readonly string[];
  parallelism: number;
}

/** True when the split has read every sequence up to its end. */
export function isSplitDone(s: JetStreamSplit): boolean {
  return s.end !== undefined && s.next > s.end;
}

/**
 * The splits of a first start: one per subject partition (when the stream has them and the source
 * has no filter of its own); else, with an `endSeq`, `parallelism` contiguous sequence ranges;
 * else one split over the whole stream (a single ordered read, as it follows the stream).
 */
export function initialSplits(c: InitialSplitInput): JetStreamSplit[] {
  const base = (id: string, filter: string | undefined, next: number, end: number | undefined): JetStreamSplit => {
    const s: JetStreamSplit = { id, next };
    if (filter !== undefined) s.filter = filter;
    if (end !== undefined) s.end = end;
    return s;
  };
  if (c.filterSubject === undefined && c.partitions.length > 0) return c.partitions.map((f, k) => base(`p${k}`, f, c.startSeq, c.endSeq));
  if (c.endSeq === undefined) return [base("all", c.filterSubject, c.startSeq, undefined)];
  const total = c.endSeq - c.startSeq + 1;
  const n = Math.max(1, Math.min(c.parallelism, total));
  const out: JetStreamSplit[] = [];
  for (let k = 0; k < n; k++) {
    const first = c.startSeq + Math.floor((total * k) / n);
    const last = c.startSeq + Math.floor((total * (k + 1)) / n) - 1;
    out.push(base(`r${k}`, c.filterSubject, first, last));
  }
  return out;
}

/** Orders split ids so that `r2` comes before `r10` and `r1.0` before `r1.1` (then plain text order). */
function compareIds(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = Number(x);
    const ny = Number(y);
    if (i % 2 === 1 && Number.isFinite(nx) && Number.isFinite(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/**
 * Cuts bounded splits in two (the one with the most sequences left first) until there are
 * `parallelism` unfinished splits or none can be cut: a restore at a higher parallelism shares the
 * remaining work. Deterministic: every subtask gets the same result from the same splits.
 */
export function refineSplits(splits: readonly JetStreamSplit[], parallelism: number): JetStreamSplit[] {
  const all = [...splits].sort((a, b) => compareIds(a.id, b.id));
  const left = (s: JetStreamSplit) => (s.end === undefined ? 0 : s.end - s.next + 1);
  for (;;) {
    const live = all.filter((s) => !isSplitDone(s));
    if (live.length >= parallelism) return all;
    let widest: JetStreamSplit | undefined;
    for (const s of live) if (left(s) >= 2 && (widest === undefined || left(s) > left(widest))) widest = s;
    if (!widest) return all;
    const mid = widest.next + Math.floor(left(widest) / 2);
    const lo: JetStreamSplit = { ...widest, id: `${widest.id}.0`, end: mid - 1 };
    const hi: JetStreamSplit = { ...widest, id: `${widest.id}.1`, next: mid };
    all.splice(all.indexOf(widest), 1, lo, hi);
  }
}

/**
 * The splits subtask `index` of `parallelism` reads: the unfinished splits (in id order) round robin,
 * and the finished ones the same way apart, so they stay in the state of some subtask.
 */
export function assignSplits(splits: readonly JetStreamSplit[], parallelism: number, index: number): JetStreamSplit[] {
  const all = refineSplits(splits, parallelism);
  const mine: JetStreamSplit[] = [];
  let live = 0;
  let done = 0;
  for (const s of all) {
    const k = isSplitDone(s) ? done++ : live++;
    if (k % parallelism === index) mine.push({ ...s });
  }
  return mine;
}

/** A partition token of a subject transform: `{{partition(n, ...)}}` (any spacing and case). */
const PARTITION_TOKEN = /^\{\{\s*partition\s*\(\s*(\d+)\s*(?:,[^)]*)?\)\s*\}\}$/i;
/** The most partitions read as splits. */
const MAX_PARTITIONS = 4096;

/**
 * One subject filter per partition of a stream whose subject transform (or one of its subjects'
 * transforms) writes a partition token, e.g. `orders.{{partition(4,1)}}.{{wildcard(1)}}` gives
 * `orders.0.*` .. `orders.3.*`; empty when the stream has no such transform.
 */
export function partitionFilters(destinations: readonly string[]): string[] {
  for (const dest of destinations) {
    const tokens = dest.split(".");
    const at = tokens.findIndex((t) => PARTITION_TOKEN.test(t));
    if (at < 0) continue;
    const n = Number(PARTITION_TOKEN.exec(tokens[at]!)![1]);
    if (n < 1 || n > MAX_PARTITIONS) continue;
    const shape = tokens.map((t) => (t.startsWith("{{") ? "*" : t));
    const out: string[] = [];
    for (let k = 0; k < n; k++) {
      shape[at] = String(k);
      out.push(shape.join("."));
    }
    return out;
  }
  return [];
}
