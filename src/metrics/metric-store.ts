/**
 * The JobManager's view of every metric (Flink's MetricStore): fed by the reports of TaskExecutors,
 * JobMasters and the ResourceManager (report.ts), read through {@link MetricQuery}. Rates are derived
 * here from consecutive counter values and the reports' timestamps; every second a tick samples each
 * running vertex's throughput into its history and evicts what is gone.
 */
import type { MetricQuery, MetricValues, SubtaskMetrics, ThroughputPoint } from "./types.js";
import type { ClusterReport, JobReport, TaskEntry, TaskExecutorReport } from "./report.js";
import { F, TASK_FIELDS, TASK_RATES } from "./names.js";
import { renderPrometheus } from "./prometheus.js";
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
  raw: ReadonlyArray<number | undefined> | undefined;
  values: MetricValues;
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

const SUM_KEYS = ["numRecordsIn", "numRecordsOut", "numBytesIn", "numBytesOut", "stateSize", ...TASK_RATES.slice(0, 4).map(([r]) => r)];
const MAX_KEYS = [...TASK_RATES.slice(4).map(([r]) => r), "buffers.inPoolUsage", "buffers.outPoolUsage"];
const MIN_KEYS = ["currentInputWatermark", "currentOutputWatermark"];
const TIME_FIELDS = new Set<string>(["accumulatedBusyTime", "accumulatedIdleTime", "accumulatedBackPressuredTime"]);

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
        raw: undefined,
        values: {},
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
          rin += st.values.numRecordsInPerSecond ?? 0;
          rout += st.values.numRecordsOutPerSecond ?? 0;
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
      .map((st) => ({ subtask: st.subtask, attempt: st.attempt, taskExecutorId: st.taskExecutorId, updatedAt: st.updatedAt, values: { ...st.values } }));
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

  private *allSubtasks(): Iterable<SubtaskState> {
    for (const j of this.jobs.values()) for (const v of j.vertices.values()) yield* v.subtasks.values();
  }
}

/** Sets a subtask's values from the report array `raw` taken at `t`, deriving rates from the previous values. */
function update(st: SubtaskState, raw: ReadonlyArray<number | null | undefined> | undefined, t: number): void {
  const prev = st.raw;
  const dt = t - st.t;
  const values: MetricValues = {};
  const cur: Array<number | undefined> = new Array(TASK_FIELDS.length);
  for (let i = 0; i < TASK_FIELDS.length; i++) {
    const x = raw?.[i];
    if (x === null || x === undefined) continue;
    cur[i] = x;
    values[TASK_FIELDS[i]!] = x;
  }
  for (const [rate, of] of TASK_RATES) {
    const i = F[of];
    const a = prev?.[i];
    const b = cur[i];
    let r = 0;
    if (a !== undefined && b !== undefined && dt > 0 && b >= a) r = ((b - a) * 1000) / dt;
    values[rate] = TIME_FIELDS.has(of) ? Math.min(1000, r) : r;
  }
  st.raw = cur;
  st.t = t;
  st.values = values;
}

/** A vertex's metrics over its subtasks: counters and rates summed, times per second and pool usages max, watermarks min. */
export function aggregate(subtasks: Iterable<{ values: MetricValues }>): MetricValues {
  const out: MetricValues = {};
  let n = 0;
  const missing = new Set<string>();
  for (const { values } of subtasks) {
    n++;
    for (const k of SUM_KEYS) if (values[k] !== undefined) out[k] = (out[k] ?? 0) + values[k]!;
    for (const k of MAX_KEYS) if (values[k] !== undefined) out[k] = Math.max(out[k] ?? Number.NEGATIVE_INFINITY, values[k]!);
    for (const k of MIN_KEYS) {
      if (values[k] === undefined) missing.add(k);
      else out[k] = Math.min(out[k] ?? Number.POSITIVE_INFINITY, values[k]!);
    }
  }
  // A vertex's watermark is known only once every subtask has one (Flink's minimum over subtasks).
  for (const k of missing) delete out[k];
  if (n === 0) return {};
  return out;
}
