import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { METRICS, MetricStore, SCOPE_PREFIX, prometheusName } from "../../src/metrics/index.js";
import { taskEntry, teReport } from "../helpers/metric-reports.js";
import { hasPromtool, parsePrometheus, promtoolCheck, PROMTOOL } from "../helpers/promtool.js";

const JOB = "a".repeat(32);
const V = "b".repeat(32);

/** A store holding one of each scope, with names and labels that need escaping. */
function filled(): MetricStore {
  const store = new MetricStore();
  const entry = (n: number, extra = {}) =>
    taskEntry(
      JOB,
      V,
      0,
      { numRecordsOut: n, currentInputWatermark: 1_700_000_000_000, "buffers.outPoolUsage": 0.25, accumulatedBusyTime: n },
      {
        jobName: 'word "count"\\ job\nnew',
        taskName: "Source: lines -> tokenize",
        ...extra,
      },
    );
  store.ingestTaskExecutor(
    teReport("te_1", 1_000, [entry(10)], { values: { "Status.Memory.RSS": 5e7, "Status.EventLoop.Slot0.LagMs": 1.5, "Status.CPU.Load": 0.01 } }),
  );
  store.ingestTaskExecutor(teReport("te_1", 2_000, [entry(30)], { values: { "Status.Memory.RSS": 5e7, "Status.EventLoop.Slot0.LagMs": 1.5 } }));
  store.ingestJob({ jobId: JOB, jobName: "wc", state: "RUNNING", terminal: false, t: 1, values: { numRestarts: 1, lastCheckpointDuration: 12 } });
  store.ingestCluster({ t: 1, values: { numRegisteredTaskManagers: 1, taskSlotsTotal: 2, taskSlotsAvailable: 1 } });
  return store;
}

test("metric names become valid Prometheus names: dots and other characters turn into underscores", () => {
  assert.equal(prometheusName("Status.Memory.RSS"), "Status_Memory_RSS");
  assert.equal(prometheusName("buffers.inPoolUsage"), "buffers_inPoolUsage");
  assert.equal(prometheusName("a-b c"), "a_b_c");
});

test("the Prometheus text names every metric eddy_<scope>_<FlinkName> with its labels, one HELP and TYPE per name", () => {
  const text = filled().prometheus();
  const { samples, types } = parsePrometheus(text);
  const one = (name: string) => {
    const s = samples.filter((x) => x.name === name);
    assert.equal(s.length, 1, name);
    return s[0]!;
  };
  assert.equal(one("eddy_jobmanager_numRegisteredTaskManagers").value, 1);
  assert.equal(one("eddy_jobmanager_taskSlotsAvailable").value, 1);
  assert.equal(one("eddy_jobmanager_numRunningJobs").value, 1);
  assert.deepEqual(one("eddy_jobmanager_job_numRestarts").labels, { job_id: JOB, job_name: "wc" });
  assert.equal(one("eddy_jobmanager_job_lastCheckpointDuration").value, 12);
  assert.deepEqual(one("eddy_taskmanager_Status_Memory_RSS").labels, { tm_id: "te_1" });
  assert.equal(one("eddy_taskmanager_Status_EventLoop_Slot0_LagMs").value, 1.5);
  const out = one("eddy_taskmanager_job_task_numRecordsOut");
  assert.equal(out.value, 30);
  assert.deepEqual(out.labels, {
    job_id: JOB,
    job_name: 'word "count"\\ job\nnew',
    task_id: V,
    task_name: "Source: lines -> tokenize",
    subtask_index: "0",
    tm_id: "te_1",
  });
  assert.equal(one("eddy_taskmanager_job_task_numRecordsOutPerSecond").value, 20);
  assert.equal(one("eddy_taskmanager_job_task_buffers_outPoolUsage").value, 0.25);
  assert.equal(one("eddy_taskmanager_job_task_currentInputWatermark").value, 1_700_000_000_000);
  assert.equal(samples.filter((s) => s.name === "eddy_taskmanager_job_task_currentOutputWatermark").length, 0, "no watermark: no sample");
  for (const name of new Set(samples.map((s) => s.name))) assert.equal(types.get(name), "gauge", name);
  assert.equal(text.match(/^# TYPE eddy_taskmanager_job_task_numRecordsOut /gm)?.length, 1);
});

test("promtool check metrics accepts the text (the contract's camelCase names aside)", (t) => {
  if (!hasPromtool()) {
    t.skip(`${PROMTOOL} is not installed (CI installs Debian's prometheus package)`);
    return;
  }
  const check = promtoolCheck(filled().prometheus());
  assert.deepEqual(check.problems, [], check.output);
  assert.ok(check.status === 0 || check.status === 3, `promtool exit ${check.status}: ${check.output}`);
});

test("promtool rejects a text that is not the exposition format (the check can fail)", (t) => {
  if (!hasPromtool()) {
    t.skip(`${PROMTOOL} is not installed`);
    return;
  }
  const check = promtoolCheck("# TYPE x gauge\nx{a=b} 1\n");
  assert.notDeepEqual(check.problems, []);
});

test("docs/metrics.md lists every metric with its Prometheus name", () => {
  const doc = readFileSync(join(fileURLToPath(new URL(".", import.meta.url)), "../../../docs/metrics.md"), "utf8");
  for (const m of METRICS) {
    assert.ok(doc.includes(`| \`${m.name}\` |`), `${m.name} has a row`);
    assert.ok(doc.includes(`\`${SCOPE_PREFIX[m.scope]}${prometheusName(m.name)}\``), `${m.name}'s Prometheus name is given`);
  }
});
