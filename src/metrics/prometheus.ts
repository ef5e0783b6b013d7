/**
 * The Prometheus text exposition format 0.0.4 of a store's metrics: `eddy_<scope>_<FlinkName>` with
 * '.' and other invalid characters replaced by '_', one HELP and TYPE line per name, then its samples.
 * Every metric is a gauge (Flink's Prometheus reporter exports counters as gauges too: they restart
 * with each task attempt).
 */
import type { MetricValues } from "./types.js";
import { METRICS, prometheusName, SCOPE_PREFIX, type MetricScope } from "./names.js";

/** What is rendered: the store's current entries. */
export interface PrometheusView {
  cluster: MetricValues;
  jobs: Iterable<{ id: string; name: string; values: MetricValues }>;
  taskExecutors: Iterable<{ id: string; values: MetricValues }>;
  subtasks: Iterable<{ jobId: string; jobName: string; vertexId: string; taskName: string; subtask: number; taskExecutorId: string; values: MetricValues }>;
}

const HELP = new Map(METRICS.map((m) => [`${m.scope}:${m.name}`, m.help]));
const SLOT_LAG = /^Status\.EventLoop\.Slot(\d+)\.LagMs$/;

function helpOf(scope: MetricScope, name: string): string {
  const h = HELP.get(`${scope}:${name}`);
  if (h !== undefined) return h;
  const slot = SLOT_LAG.exec(name);
  if (slot) return `Longest event-loop delay of slot ${slot[1]}'s thread in the last report interval, ms.`;
  return `${name} (${scope} scope).`;
}

/** Collects samples by metric name so each name's HELP and TYPE come once, before its samples. */
class Families {
  private readonly byName = new Map<string, { help: string; lines: string[] }>();

  add(scope: MetricScope, metric: string, labels: string, value: number): void {
    const name = SCOPE_PREFIX[scope] + prometheusName(metric);
    let f = this.byName.get(name);
    if (!f) this.byName.set(name, (f = { help: helpOf(scope, metric), lines: [] }));
    f.lines.push(`${name}${labels} ${formatValue(value)}`);
  }

  render(): string {
    let out = "";
    for (const [name, f] of this.byName) {
      out += `# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} gauge\n`;
      for (const l of f.lines) out += `${l}\n`;
    }
    return out;
  }
}

/** Renders every metric of `view`. */
export function renderPrometheus(view: PrometheusView): string {
  const f = new Families();
  for (const [k, v] of Object.entries(view.cluster)) f.add("cluster", k, "", v);
  for (const job of view.jobs) {
    const labels = labelSet([
      ["job_id", job.id],
      ["job_name", job.name],
    ]);
    for (const [k, v] of Object.entries(job.values)) f.add("job", k, labels, v);
  }
  for (const te of view.taskExecutors) {
    const labels = labelSet([["tm_id", te.id]]);
    for (const [k, v] of Object.entries(te.values)) f.add("taskmanager", k, labels, v);
  }
  for (const st of view.subtasks) {
    const labels = labelSet([
      ["job_id", st.jobId],
      ["job_name", st.jobName],
      ["task_id", st.vertexId],
      ["task_name", st.taskName],
      ["subtask_index", String(st.subtask)],
      ["tm_id", st.taskExecutorId],
    ]);
    for (const [k, v] of Object.entries(st.values)) f.add("task", k, labels, v);
  }
  return f.render();
}

function labelSet(pairs: ReadonlyArray<readonly [string, string]>): string {
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escapes backslash and line feed. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value: Go's float syntax, with NaN and ±Inf spelled as Prometheus reads them. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}
