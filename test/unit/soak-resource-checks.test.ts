import { test } from "node:test";
import assert from "node:assert/strict";
import { resourceViolations } from "../soak/checks.js";
import { ResourceSampler } from "../soak/resources.js";

/** A sampler holding given samples (one every 2 s from t = 0) instead of reading /proc. */
function sampled(series: Record<string, Array<[rssKb: number, threads: number]>>): ResourceSampler {
  const s = new ResourceSampler(() => []);
  let pid = 100;
  for (const [label, xs] of Object.entries(series))
    s.samples.set(`${label} (pid ${pid++})`, { pid, samples: xs.map(([rssKb, threads], i) => ({ t: i * 2_000, rssKb, threads })) });
  return s;
}

const flat = (n: number, kb: number, threads = 13): Array<[number, number]> => Array.from({ length: n }, () => [kb, threads]);

test("RSS growing over 10% after warm-up is a violation for Eddy processes, shown only for NATS servers", () => {
  const s = sampled({
    taskexecutor: [...flat(10, 100_000), ...flat(10, 120_000)],
    jobmanager: [...flat(10, 100_000), ...flat(10, 105_000)],
    "nats-server n1": [...flat(10, 20_000), ...flat(10, 40_000)],
  });
  const r = resourceViolations(s, 0, 18_000, 38_000);
  assert.equal(r.violations.length, 1, r.violations.join("\n"));
  assert.match(r.violations[0]!, /^taskexecutor .*RSS grew \+20\.0%/);
  assert.equal(r.lines.length, 3);
});

test("a TaskExecutor with more threads at the end than after warm-up leaks threads; processes not alive the whole run are not judged", () => {
  const s = sampled({
    taskexecutor: [...flat(10, 100_000, 13), ...flat(10, 100_000, 15)],
    "taskexecutor (replaced)": flat(5, 100_000, 13),
  });
  const r = resourceViolations(s, 0, 18_000, 38_000);
  assert.deepEqual(r.violations.length, 1);
  assert.match(r.violations[0]!, /15 threads at the end, 13 after warm-up/);
  assert.equal(r.lines.length, 1);
});
