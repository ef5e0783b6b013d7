/**
 * The JobManager's view of every metric (Flink's MetricStore): fed by the reports of TaskExecutors,
 * JobMasters and the ResourceManager (report.ts), read through {@link MetricQuery}. Rates are derived
 * here from consecutive counter values and the reports' timestamps; every second a tick samples each
 * running vertex's throughput into its history and evicts what is gone.
 */
import type { MetricQuery, MetricValues, SubtaskMetrics, ThroughputPoint } from "./types.js";
import type { ClusterReport, JobReport, TaskEntry, TaskExecutorReport } from "./report.js";
import { F, TASK_FIELDS, TASK_RATES } from "./names.js";
import { renderPrometheus, type PrometheusView } from "./prometheus.js";
import { Ring } from "./ring.js";

/** Retention settings (defaults as documented in docs/metrics.md). */
export interface MetricStoreOptions {
  /** How long a job's metrics are kept after its report said terminal (or after its last report of any kind). Default 10 min. */
  jobRetentionMs?: number;
  /** Silence after which a TaskExecutor's metrics are dropped. Default 60 s. */
  taskExecutorSilenceMs?: number;
  /** Silence after which a TaskExecutor's tasks count as not moving (their rates read 0). Default 3 s. */
  staleMs?: number;
  /** A job counts as running while its latest report is not terminal and at most this old. Default 30 s. */
  jobReportFreshMs?: number;
  /** Points of a vertex's throughput history (one per tick). Default 600 (10 minutes). */
  historyPoints?: number;
}

/** One subtask's current attempt. */
interface SubtaskState {
  readonly subtask: number;
  readonly attempt: number;
  readonly attemptId: string;
  readonly jobId: string;
  readonly vertexId: string;
  taskExecutorId: string;
  jobName: string;
  taskName: string;
  /** Local receive time of the latest report that covered it. */
  updatedAt: number;
  /** Report time (the TaskExecutor's clock) of `raw`. */
  t: number;
  /** The reported values in names.ts TASK_FIELDS order (NaN: absent), and the previous ones (reused). */
  raw: Float64Array;
  spare: Float64Array;
  /** False until the first report. */
  known: boolean;
  /** The derived rates, in TASK_RATES order. */
  readonly rates: Float64Array;
  /** `values` as an object, built when asked for. */
  cached: MetricValues | undefined;
  /** Generation of the TaskExecutor report that last listed it. */
  seen: number;
}

interface VertexState {
  name: string;
  readonly subtasks: Map<number, SubtaskState>;
  readonly history: Ring<ThroughputPoint>;
}

interface JobState {
  name: string;
  state: string | undefined;
  terminal: boolean;
  terminalAt: number;
  /** Local time of the latest report of any kind about the job. */
  updatedAt: number;
  /** Local time of the latest job report (undefined: none yet). */
  reportedAt: number | undefined;
  values: MetricValues;
  readonly vertices: Map<string, VertexState>;
}

interface TaskExecutorState {
  values: MetricValues;
  updatedAt: number;
  gen: number;
  stale: boolean;
  /** Its running attempts, by attempt id. */
  readonly tasks: Map<string, SubtaskState>;
}

const N = TASK_FIELDS.length;
/** Per rate: the index of its field, and whether it is a time (ms per second, at most 1000). */
const RATE_OF = TASK_RATES.map(([, of]) => F[of]);
const RATE_IS_TIME = TASK_RATES.map(([, of]) => of.startsWith("accumulated"));
/** How a vertex aggregates each field and rate over its subtasks. */
const SUM_FIELDS = [F.numRecordsIn, F.numRecordsOut, F.numBytesIn, F.numBytesOut, F.stateSize];
const MAX_FIELDS = [F["buffers.inPoolUsage"], F["buffers.outPoolUsage"]];
const MIN_FIELDS = [F.currentInputWatermark, F.currentOutputWatermark];
const SUM_RATES = [0, 1, 2, 3];
const MAX_RATES = [4, 5, 6];

/** The metric store; `now` is the local clock (tests drive it). */
export class MetricStore implements MetricQuery {
  private readonly jobs = new Map<string, JobState>();
  private readonly tes = new Map<string, TaskExecutorState>();
  private clusterValues: MetricValues = {};
  private readonly o: Required<MetricStoreOptions>;

  constructor(
    opts: MetricStoreOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.o = {
      jobRetentionMs: opts.jobRetentionMs ?? 600_000,
      taskExecutorSilenceMs: opts.taskExecutorSilenceMs ?? 60_000,
      staleMs: opts.staleMs ?? 3_000,
      jobReportFreshMs: opts.jobReportFreshMs ?? 30_000,
      historyPoints: opts.historyPoints ?? 600,
    };
  }

  // ---- ingest ----

  ingestTaskExecutor(r: TaskExecutorReport): void {
    const now = this.now();
    let te = this.tes.get(r.teId);
    if (!te) this.tes.set(r.teId, (te = { values: {}, updatedAt: now, gen: 0, stale: false, tasks: new Map() }));
    te.values = r.values;
    te.updatedAt = now;
    te.stale = false;
    const gen = ++te.gen;
    for (const e of r.tasks) this.ingestTask(r.teId, te, e, r.t, now, gen);
    for (const [attemptId, st] of te.tasks) {
      if (st.seen === gen) continue;
      // Left out of a delta: unchanged since the last report. Left out of a full report: no longer there.
      update(st, st.raw, r.t);
      st.updatedAt = now;
      if (r.full) te.tasks.delete(attemptId);
    }
  }

  private ingestTask(teId: string, te: TaskExecutorState, e: TaskEntry, t: number, now: number, gen: number): void {
    const job = this.job_(e.jobId, e.jobName, now);
    let v = job.vertices.get(e.vertexId);
    if (!v) job.vertices.set(e.vertexId, (v = { name: e.taskName, subtasks: new Map(), history: new Ring(this.o.historyPoints) }));
    let st = v.subtasks.get(e.subtask);
    if (st && st.attempt > e.attempt) return; // a late report of an attempt already replaced
    if (!st || st.attemptId !== e.attemptId) {
      if (st) this.tes.get(st.taskExecutorId)?.tasks.delete(st.attemptId);
      st = {
        subtask: e.subtask,
        attempt: e.attempt,
        attemptId: e.attemptId,
        jobId: e.jobId,
        vertexId: e.vertexId,
        taskExecutorId: teId,
        jobName: e.jobName,
        taskName: e.taskName,
        updatedAt: now,
        t,
        raw: new Float64Array(N).fill(Number.NaN),
        spare: new Float64Array(N),
        known: false,
        rates: new Float64Array(TASK_RATES.length),
        cached: undefined,
        seen: gen,
      };
      v.subtasks.set(e.subtask, st);
    }
    st.jobName = e.jobName;
    st.taskName = v.name = e.taskName;
    st.taskExecutorId = teId;
    st.updatedAt = now;
    st.seen = gen;
    update(st, e.values, t);
    if (e.final) te.tasks.delete(e.attemptId);
    else te.tasks.set(e.attemptId, st);
  }

  ingestJob(r: JobReport): void {
    const now = this.now();
    const job = this.job_(r.jobId, r.jobName, now);
    job.name = r.jobName;
    job.state = r.state;
    job.values = r.values;
    job.reportedAt = now;
    if (r.terminal && !job.terminal) job.terminalAt = now;
    job.terminal = r.terminal;
  }

  ingestCluster(r: ClusterReport): void {
    this.clusterValues = r.values;
  }

  private job_(jobId: string, name: string, now: number): JobState {
    let job = this.jobs.get(jobId);
    if (!job) {
      job = { name, state: undefined, terminal: false, terminalAt: 0, updatedAt: now, reportedAt: undefined, values: {}, vertices: new Map() };
      this.jobs.set(jobId, job);
    }
    job.updatedAt = now;
    return job;
  }

  /**
   * True while a tick has work every second: a job reports as running, or a TaskExecutor's tasks are
   * not yet stale. Otherwise ticks only evict, and may come seldom.
   */
  get moving(): boolean {
    const now = this.now();
    for (const j of this.jobs.values()) if (!j.terminal && j.reportedAt !== undefined && now - j.reportedAt <= this.o.jobReportFreshMs) return true;
    for (const te of this.tes.values()) if (!te.stale && te.tasks.size > 0) return true;
    return false;
  }

  /** Once a second: samples the throughput of running jobs' vertices, marks silent TaskExecutors, evicts. */
  tick(): void {
    const now = this.now();
    for (const [id, te] of this.tes) {
      const silent = now - te.updatedAt;
      if (silent > this.o.taskExecutorSilenceMs) this.tes.delete(id);
      if (silent > this.o.staleMs && !te.stale) {
        te.stale = true;
        for (const st of te.tasks.values()) update(st, st.raw, st.t);
      }
    }
    for (const [id, job] of this.jobs) {
      if (job.terminal ? now - job.terminalAt > this.o.jobRetentionMs : now - job.updatedAt > this.o.jobRetentionMs) {
        this.jobs.delete(id);
        continue;
      }
      if (job.terminal) continue;
      for (const v of job.vertices.values()) {
        let rin = 0;
        let rout = 0;
        for (const st of v.subtasks.values()) {
          rin += st.rates[0]!;
          rout += st.rates[1]!;
        }
        v.history.push({ t: now, recordsInPerSecond: rin, recordsOutPerSecond: rout });
      }
    }
  }

  // ---- MetricQuery ----

  job(jobId: string): MetricValues {
    const j = this.jobs.get(jobId);
    return j ? { ...j.values } : {};
  }

  subtasks(jobId: string, vertexId: string): SubtaskMetrics[] {
    const v = this.jobs.get(jobId)?.vertices.get(vertexId);
    if (!v) return [];
    return [...v.subtasks.values()]
      .sort((a, b) => a.subtask - b.subtask)
      .map((st) => ({ subtask: st.subtask, attempt: st.attempt, taskExecutorId: st.taskExecutorId, updatedAt: st.updatedAt, values: { ...valuesOf(st) } }));
  }

  vertex(jobId: string, vertexId: string): MetricValues {
    const v = this.jobs.get(jobId)?.vertices.get(vertexId);
    return v ? aggregate(v.subtasks.values()) : {};
  }

  throughput(jobId: string, vertexId: string): ThroughputPoint[] {
    return this.jobs.get(jobId)?.vertices.get(vertexId)?.history.toArray() ?? [];
  }

  taskExecutor(taskExecutorId: string): MetricValues {
    const te = this.tes.get(taskExecutorId);
    return te ? { ...te.values } : {};
  }

  lastReport(taskExecutorId: string): number | undefined {
    return this.tes.get(taskExecutorId)?.updatedAt;
  }

  cluster(): MetricValues {
    const now = this.now();
    let running = 0;
    for (const j of this.jobs.values()) if (j.reportedAt !== undefined && !j.terminal && now - j.reportedAt <= this.o.jobReportFreshMs) running++;
    return { ...this.clusterValues, numRunningJobs: running };
  }

  prometheus(): string {
    return renderPrometheus({ cluster: this.cluster(), jobs: this.reportedJobs(), taskExecutors: this.taskExecutorEntries(), subtasks: this.allSubtasks() });
  }

  private *reportedJobs(): Iterable<{ id: string; name: string; values: MetricValues }> {
    for (const [id, j] of this.jobs) if (j.reportedAt !== undefined) yield { id, name: j.name, values: j.values };
  }

  private *taskExecutorEntries(): Iterable<{ id: string; values: MetricValues }> {
    for (const [id, te] of this.tes) yield { id, values: te.values };
  }

  private *allSubtasks(): Iterable<PrometheusView["subtasks"] extends Iterable<infer T> ? T : never> {
    for (const j of this.jobs.values())
      for (const v of j.vertices.values())
        for (const st of v.subtasks.values()) {
          const { jobId, jobName, vertexId, taskName, subtask, taskExecutorId } = st;
          yield { jobId, jobName, vertexId, taskName, subtask, taskExecutorId, values: valuesOf(st) };
        }
  }
}

/** Sets a subtask's values from the report array `raw` taken at `t`, deriving rates from the previous values. */
function update(st: SubtaskState, raw: ArrayLike<number | null> | undefined, t: number): void {
  const prev = st.raw;
  const cur = st.spare;
  for (let i = 0; i < N; i++) {
    const x = raw?.[i];
    cur[i] = x === null || x === undefined ? Number.NaN : x;
  }
  const dt = t - st.t;
  const rates = st.rates;
  for (let r = 0; r < RATE_OF.length; r++) {
    const i = RATE_OF[r]!;
    const a = prev[i]!;
    const b = cur[i]!;
    // NaN (absent) compares false: no rate without both values.
    const rate = st.known && dt > 0 && b >= a ? ((b - a) * 1000) / dt : 0;
    rates[r] = RATE_IS_TIME[r] ? Math.min(1000, rate) : rate;
  }
  st.spare = prev;
  st.raw = cur;
  st.known = raw !== undefined;
  st.t = t;
  st.cached = undefined;
}

/** A subtask's values and rates by name (absent values left out). */
function valuesOf(st: SubtaskState): MetricValues {
  if (st.cached) return st.cached;
  const out: MetricValues = {};
  for (let i = 0; i < N; i++) if (!Number.isNaN(st.raw[i]!)) out[TASK_FIELDS[i]!] = st.raw[i]!;
  for (let r = 0; r < TASK_RATES.length; r++) out[TASK_RATES[r]![0]] = st.rates[r]!;
  st.cached = out;
  return out;
}

/**
 * A vertex's metrics over its subtasks: counters and rates summed, times per second and pool usages
 * max, watermarks min (known only once every subtask has one, as Flink's minimum over subtasks).
 */
function aggregate(subtasks: Iterable<SubtaskState>): MetricValues {
  const sum = new Float64Array(N);
  const max = new Float64Array(N).fill(Number.NEGATIVE_INFINITY);
  const min = new Float64Array(N).fill(Number.POSITIVE_INFINITY);
  const rsum = new Float64Array(TASK_RATES.length);
  const rmax = new Float64Array(TASK_RATES.length);
  const seen = new Uint32Array(N);
  let n = 0;
  for (const st of subtasks) {
    n++;
    const raw = st.raw;
    for (let i = 0; i < N; i++) {
      const x = raw[i]!;
      if (Number.isNaN(x)) continue;
      seen[i]!++;
      sum[i]! += x;
      if (x > max[i]!) max[i] = x;
      if (x < min[i]!) min[i] = x;
    }
    for (let r = 0; r < TASK_RATES.length; r++) {
      rsum[r]! += st.rates[r]!;
      if (st.rates[r]! > rmax[r]!) rmax[r] = st.rates[r]!;
    }
  }
  if (n === 0) return {};
  const out: MetricValues = {};
  for (const i of SUM_FIELDS) if (seen[i]! > 0) out[TASK_FIELDS[i]!] = sum[i]!;
  for (const i of MAX_FIELDS) if (seen[i]! > 0) out[TASK_FIELDS[i]!] = max[i]!;
  for (const i of MIN_FIELDS) if (seen[i] === n) out[TASK_FIELDS[i]!] = min[i]!;
  for (const r of SUM_RATES) out[TASK_RATES[r]![0]] = rsum[r]!;
  for (const r of MAX_RATES) out[TASK_RATES[r]![0]] = rmax[r]!;
  return out;
}
