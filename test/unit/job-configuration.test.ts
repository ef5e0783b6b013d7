/**
 * A job's Flink configuration at submission (`eddy run -D key=value`): every key parses and lands in
 * its JobGraph setting, bad keys and values are refused naming the key, `-D` overrides what main set,
 * the bounds are the JobGraph schema's, and `eddy plan -D` shows the effect.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  applyJobConfiguration,
  CONFIG_OPTIONS,
  jobGraphSchema,
  parseConfigurationPairs,
  parseDurationMs,
  parseJobConfiguration,
  validateJobGraph,
  type JobGraphSpec,
} from "../../src/jobgraph/index.js";
import { ErrorCode, ValidationError } from "../../src/core/errors.js";
import { builtinRegistry } from "../../src/runtime/invokables/index.js";
import { SubmitApplicationRequest } from "../../schemas/dispatcher-api.js";
import { main } from "../../src/cli/main.js";
import type { Io } from "../../src/cli/io.js";

/** The configuration `-D` pairs give. */
const conf = (...pairs: string[]) => parseJobConfiguration(parseConfigurationPairs(pairs));

/** A source, a keyed operator and a sink: a hash edge and a forward edge. */
function graph(config?: JobGraphSpec["config"]): JobGraphSpec {
  return {
    name: "g",
    vertices: [
      { id: "src", invokable: "source.sequence", parallelism: 2, config: { from: 0, to: 9 } },
      { id: "map", invokable: "op.identity", parallelism: 2 },
      { id: "sink", invokable: "sink.discard", parallelism: 2 },
    ],
    edges: [
      { source: "src", target: "map", partitioner: "hash" },
      { source: "map", target: "sink", partitioner: "forward" },
    ],
    ...(config ? { config } : {}),
  };
}

/** The graph's config after `-D pairs`, checked by the JobGraph's own validation. */
function applied(pairs: string[], config?: JobGraphSpec["config"]): JobGraphSpec {
  const spec = applyJobConfiguration(graph(config), conf(...pairs));
  validateJobGraph(structuredClone(spec), builtinRegistry);
  return spec;
}

function refused(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, String(e));
    assert.equal(e.code, ErrorCode.MalformedRequest);
    assert.match(e.message, re);
    return true;
  });
}

test("durations in Flink's syntax: units in any case, blanks, a plain number is ms", () => {
  const cases: Array<[string, number]> = [
    ["500ms", 500],
    ["2 s", 2000],
    ["2s", 2000],
    ["1min", 60_000],
    ["3m", 180_000],
    ["1 h", 3_600_000],
    ["2d", 172_800_000],
    ["1500", 1500],
    [" 7 ", 7],
    ["10 Seconds", 10_000],
    ["1 minute", 60_000],
    ["5 millis", 5],
    ["3000µs", 3],
    ["2000000ns", 2],
    ["0", 0],
  ];
  for (const [text, ms] of cases) assert.equal(parseDurationMs(text), ms, text);
  for (const bad of ["", "s", "1.5s", "-1s", "+1s", "1 fortnight", "1e3", "10 s s", "1500µs", "99999999999999999d"])
    assert.equal(parseDurationMs(bad), undefined, bad);
});

test("every key parses and lands in its JobGraph setting", () => {
  const spec = applied([
    "pipeline.max-parallelism=64",
    "jobmanager.scheduler=adaptive",
    "execution.checkpointing.interval=200ms",
    "execution.checkpointing.timeout=1 min",
    "execution.checkpointing.min-pause=50",
    "execution.checkpointing.max-concurrent-checkpoints=2",
    "execution.checkpointing.tolerable-failed-checkpoints=3",
    "state.checkpoints.num-retained=4",
  ]);
  assert.deepEqual(
    spec.vertices.map((v) => v.maxParallelism),
    [64, 64, 64],
  );
  assert.equal(spec.config?.scheduler, "adaptive");
  assert.deepEqual(spec.config?.checkpointing, { intervalMs: 200, timeoutMs: 60_000, minPauseMs: 50, maxConcurrent: 2, tolerableFailures: 3, retain: 4 });
  assert.equal(applied(["execution.checkpointing.interval=1s", "execution.checkpointing.num-retained=5"]).config?.checkpointing?.retain, 5, "Flink 2's name");
  assert.equal(applied(["jobmanager.scheduler=AdaptiveBatch"]).config?.scheduler, "adaptive-batch", "Flink's enum spelling");
  assert.equal(conf("parallelism.default=3").parallelism, 3, "parallelism.default is main's default parallelism");
  assert.deepEqual(applied(["parallelism.default=3"]), graph({}), "and is not applied onto the graph");

  const batch = applied(["execution.runtime-mode=BATCH"]);
  assert.deepEqual(
    batch.edges.map((e) => e.resultPartitionType),
    ["BLOCKING", "PIPELINED"],
    "BATCH: every exchange but forward is blocking",
  );
  const streaming = applyJobConfiguration(batch, conf("execution.runtime-mode=streaming"));
  assert.deepEqual(
    streaming.edges.map((e) => e.resultPartitionType),
    ["PIPELINED", "PIPELINED"],
  );
});

test("each restart strategy with every setting", () => {
  const rs = (...pairs: string[]) => applied(pairs).config?.restartStrategy;
  assert.deepEqual(rs("restart-strategy.type=none"), { type: "none" });
  assert.deepEqual(rs("restart-strategy.type=off"), { type: "none" }, "Flink's alias");
  assert.deepEqual(rs("restart-strategy.type=fixed-delay", "restart-strategy.fixed-delay.attempts=3", "restart-strategy.fixed-delay.delay=2 s"), {
    type: "fixed-delay",
    attempts: 3,
    delayMs: 2000,
  });
  assert.deepEqual(
    rs(
      "restart-strategy.type=failure-rate",
      "restart-strategy.failure-rate.max-failures-per-interval=5",
      "restart-strategy.failure-rate.failure-rate-interval=5 min",
      "restart-strategy.failure-rate.delay=10s",
    ),
    { type: "failure-rate", maxFailuresPerInterval: 5, intervalMs: 300_000, delayMs: 10_000 },
  );
  assert.deepEqual(
    rs(
      "restart-strategy.type=exponential-delay",
      "restart-strategy.exponential-delay.initial-backoff=100ms",
      "restart-strategy.exponential-delay.max-backoff=30s",
      "restart-strategy.exponential-delay.backoff-multiplier=2.5",
      "restart-strategy.exponential-delay.reset-backoff-threshold=2h",
      "restart-strategy.exponential-delay.jitter-factor=0.2",
      "restart-strategy.exponential-delay.attempts-before-reset-backoff=7",
    ),
    {
      type: "exponential-delay",
      initialBackoffMs: 100,
      maxBackoffMs: 30_000,
      backoffMultiplier: 2.5,
      resetBackoffThresholdMs: 7_200_000,
      jitterFactor: 0.2,
      attemptsBeforeResetBackoff: 7,
    },
  );
  assert.deepEqual(rs("restart-strategy.type=FixedDelay"), { type: "fixed-delay" });
});

test("an unknown key or a pair without '=' is refused naming it", () => {
  refused(() => conf("bogus.key=1"), /unknown configuration key 'bogus.key'; the keys Eddy takes: parallelism.default, /);
  refused(() => conf("restart-strategy.fixed-delay.attempt=1"), /unknown configuration key 'restart-strategy.fixed-delay.attempt'/);
  refused(() => conf("execution.checkpointing.interval"), /'execution.checkpointing.interval' is not key=value/);
  refused(() => conf("=1"), /'=1' is not key=value/);
  refused(() => parseJobConfiguration(JSON.parse('{"__proto__": "1"}') as Record<string, string>), /unknown configuration key '__proto__'/);
});

test("each kind of bad value is refused naming the key and the accepted form", () => {
  const cases: Array<[string, RegExp]> = [
    ["parallelism.default=zero", /bad value 'zero' for parallelism.default: expected a whole number from 1 to 32768/],
    ["parallelism.default=0", /for parallelism.default: expected a whole number from 1 to 32768/],
    ["parallelism.default=2.5", /for parallelism.default/],
    ["pipeline.max-parallelism=40000", /for pipeline.max-parallelism: expected a whole number from 1 to 32768/],
    [
      "execution.checkpointing.interval=fast",
      /bad value 'fast' for execution.checkpointing.interval: expected a duration from 10ms to 1d \(like 500ms, 2 s, 1min, 1 h; a plain number is ms\)/,
    ],
    ["execution.checkpointing.interval=5ms", /for execution.checkpointing.interval: expected a duration from 10ms/],
    ["execution.checkpointing.timeout=2d", /for execution.checkpointing.timeout: expected a duration from 10ms to 1d/],
    ["execution.checkpointing.min-pause=", /bad value '' for execution.checkpointing.min-pause/],
    ["execution.checkpointing.max-concurrent-checkpoints=0", /for execution.checkpointing.max-concurrent-checkpoints: expected a whole number from 1 to 100/],
    ["execution.checkpointing.tolerable-failed-checkpoints=-1", /expected a whole number >= 0/],
    ["state.checkpoints.num-retained=101", /for state.checkpoints.num-retained/],
    ["jobmanager.scheduler=fancy", /for jobmanager.scheduler: expected one of default, adaptive, adaptive-batch/],
    ["execution.runtime-mode=AUTOMATIC", /for execution.runtime-mode: expected one of STREAMING, BATCH/],
    ["restart-strategy.type=sometimes", /for restart-strategy.type: expected one of none, fixed-delay, failure-rate, exponential-delay/],
    ["restart-strategy.exponential-delay.jitter-factor=1.5", /for restart-strategy.exponential-delay.jitter-factor: expected a number from 0 to 1/],
    ["restart-strategy.exponential-delay.backoff-multiplier=x2", /for restart-strategy.exponential-delay.backoff-multiplier: expected a number from 1 to 100/],
    ["restart-strategy.failure-rate.max-failures-per-interval=0", /expected a whole number >= 1/],
  ];
  for (const [pair, re] of cases) refused(() => conf(pair), re);
});

test("of a key given twice the later value wins; values and keys are trimmed", () => {
  assert.deepEqual(parseConfigurationPairs(["parallelism.default=2", " parallelism.default = 4 ", "execution.checkpointing.interval=1s"]), {
    "parallelism.default": "4",
    "execution.checkpointing.interval": "1s",
  });
  assert.equal(conf("parallelism.default=2", "parallelism.default=4").parallelism, 4);
});

test("-D overrides what main set and keeps the rest of it", () => {
  const main = {
    checkpointing: { intervalMs: 1000, timeoutMs: 5000 },
    restartStrategy: { type: "fixed-delay" as const, attempts: 3 },
    scheduler: "default" as const,
  };
  const spec = applied(["execution.checkpointing.interval=2s", "restart-strategy.fixed-delay.delay=1 min", "jobmanager.scheduler=adaptive"], main);
  assert.deepEqual(spec.config?.checkpointing, { intervalMs: 2000, timeoutMs: 5000 });
  assert.deepEqual(spec.config?.restartStrategy, { type: "fixed-delay", attempts: 3, delayMs: 60_000 });
  assert.equal(spec.config?.scheduler, "adaptive");
  assert.deepEqual(
    applied(["restart-strategy.type=failure-rate", "restart-strategy.failure-rate.delay=1s"], main).config?.restartStrategy,
    { type: "failure-rate", delayMs: 1000 },
    "another type replaces main's strategy with its own settings",
  );
  assert.deepEqual(applied(["restart-strategy.type=fixed-delay"], main).config?.restartStrategy, main.restartStrategy, "the same type keeps main's settings");
  assert.deepEqual(applied(["execution.checkpointing.timeout=1s"], main).config?.checkpointing, { intervalMs: 1000, timeoutMs: 1000 });
  const pinned = graph();
  pinned.vertices[0]!.maxParallelism = 8;
  assert.deepEqual(
    applyJobConfiguration(pinned, conf("pipeline.max-parallelism=16")).vertices.map((v) => v.maxParallelism),
    [16, 16, 16],
  );
});

test("settings the graph cannot take are refused naming the key", () => {
  refused(
    () => applied(["execution.checkpointing.timeout=1s"]),
    /execution.checkpointing.timeout needs checkpointing, which the job does not turn on: also give execution.checkpointing.interval/,
  );
  refused(() => applied(["state.checkpoints.num-retained=3"]), /state.checkpoints.num-retained needs checkpointing/);
  refused(
    () => applied(["restart-strategy.fixed-delay.attempts=2"]),
    /restart-strategy.fixed-delay.attempts needs restart-strategy.type=fixed-delay: the job sets no restart strategy/,
  );
  refused(
    () => applied(["restart-strategy.type=none", "restart-strategy.fixed-delay.attempts=2"]),
    /restart-strategy.fixed-delay.attempts applies to restart-strategy.type=fixed-delay, but the job's restart strategy is none/,
  );
  refused(
    () => applied(["restart-strategy.failure-rate.delay=1s"], { restartStrategy: { type: "fixed-delay" } }),
    /restart-strategy.failure-rate.delay applies to restart-strategy.type=failure-rate, but the job's restart strategy is fixed-delay/,
  );
  refused(() => applied(["pipeline.max-parallelism=1"]), /pipeline.max-parallelism 1 is below the parallelism 2 of vertex "src": expected at least 2/);
});

type SchemaNode = {
  minimum?: number;
  maximum?: number;
  enum?: string[];
  $ref?: string;
  properties?: Record<string, SchemaNode>;
  oneOf?: SchemaNode[];
  const?: string;
};

/** The schema of the JobGraph setting an option lands in (undefined for those that are no single field). */
function schemaOf(key: string, field: string): SchemaNode | undefined {
  const defs = (jobGraphSchema() as { definitions: Record<string, SchemaNode> }).definitions;
  const deref = (n: SchemaNode | undefined): SchemaNode | undefined => (n?.$ref ? defs[n.$ref.replace("#/definitions/", "")] : n);
  const config = defs.jobConfig!.properties!;
  if (key === "parallelism.default" || key === "pipeline.max-parallelism") return defs.parallelism;
  const [head, name] = field.split(".");
  if (head === "checkpointing") return deref(config.checkpointing!.properties![name!]);
  if (head === "restartStrategy" && name !== "type") {
    const type = key.split(".")[1];
    const variant = deref(config.restartStrategy)!.oneOf!.find((v) => v.properties!.type!.const === type)!;
    return deref(variant.properties![name!]);
  }
  return field === "scheduler" ? config.scheduler : undefined;
}

test("the values each key accepts are the ones the JobGraph schema takes", () => {
  let checked = 0;
  for (const o of CONFIG_OPTIONS) {
    const node = schemaOf(o.key, o.field);
    if (!node) continue;
    checked++;
    if (node.enum) {
      for (const v of node.enum) assert.equal(o.read(v), v, `${o.key} takes ${v}`);
      continue;
    }
    const { minimum: min, maximum: max } = node;
    assert.ok(min !== undefined && max !== undefined, o.key);
    const integral = !/number from/.test(o.accepts);
    const step = integral ? 1 : 0.001;
    assert.equal(o.read(String(min)), min, `${o.key} takes the schema's minimum ${min}`);
    assert.equal(o.read(String(max)), max, `${o.key} takes the schema's maximum ${max}`);
    assert.equal(o.read(String(min - step)), undefined, `${o.key} refuses below ${min}`);
    assert.equal(o.read(String(max + step)), undefined, `${o.key} refuses above ${max}`);
  }
  assert.equal(checked, CONFIG_OPTIONS.length - 2, "all but execution.runtime-mode and restart-strategy.type map to one schema field");
});

test("docs/jobgraph.md lists every key with the JobGraph field it sets", () => {
  const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");
  const rows = readFileSync(join(root, "docs/jobgraph.md"), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("| `"));
  for (const o of CONFIG_OPTIONS) {
    const row = rows.find((l) => l.includes(`\`${o.key}\``));
    assert.ok(row, `docs/jobgraph.md has a row for ${o.key}`);
    if (/^(checkpointing|restartStrategy)\./.test(o.field)) assert.ok(row.includes(`\`${o.field}\``), `the row of ${o.key} names ${o.field}`);
  }
});

test("submitApplication's configuration is checked at the Dispatcher's boundary", () => {
  const bundle = { id: "a".repeat(64), size: 10 };
  assert.deepEqual(
    { ...SubmitApplicationRequest({ bundle, configuration: { "parallelism.default": "2" } }, "").configuration },
    { "parallelism.default": "2" },
  );
  refused(() => SubmitApplicationRequest({ bundle, configuration: { "bogus.key": "1" } }, ""), /unknown configuration key 'bogus.key'/);
  refused(() => SubmitApplicationRequest({ bundle, configuration: { "parallelism.default": "zero" } }, ""), /bad value 'zero' for parallelism.default/);
  refused(() => SubmitApplicationRequest({ bundle, configuration: { "parallelism.default": 2 } }, ""), /must be a string/);
  refused(() => SubmitApplicationRequest({ bundle, configuration: ["parallelism.default=2"] }, ""), /must be an object/);
});

function captureIo(): Io & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, out: (l) => void outLines.push(l), err: (l) => void errLines.push(l) };
}

test("eddy plan -D shows the effect; --parallelism wins over parallelism.default; a bad -D exits 2 naming the key", async () => {
  const dir = mkdtempSync(join(tmpdir(), "eddy-plan-config-"));
  try {
    const job = join(dir, "job.mjs");
    writeFileSync(
      job,
      `export default (args, ctx) => ({ name: "J", config: { checkpointing: { intervalMs: 1000 } }, vertices: [
        { id: "src", invokable: "source.sequence", parallelism: 1, config: { from: 0, to: 9 } },
        { id: "sink", invokable: "sink.discard", parallelism: ctx.parallelism ?? 1 } ],
        edges: [{ source: "src", target: "sink", partitioner: "rebalance" }] });\n`,
    );
    const plan = async (...argv: string[]) => {
      const io = captureIo();
      const code = await main(["plan", job, ...argv], io);
      return { code, io, spec: code === 0 ? (JSON.parse(io.outLines.join("\n")) as JobGraphSpec) : undefined };
    };
    const a = await plan("-D", "execution.checkpointing.interval=200ms", "-Dparallelism.default=3", "-D", "restart-strategy.type=fixed-delay");
    assert.equal(a.code, 0, a.io.errLines.join("\n"));
    assert.deepEqual(a.spec!.config?.checkpointing, { intervalMs: 200 });
    assert.deepEqual(a.spec!.config?.restartStrategy, { type: "fixed-delay" });
    assert.equal(a.spec!.vertices[1]!.parallelism, 3);
    assert.equal(a.spec!.config?.parallelism, 3, "main gets it again on every TaskExecutor");
    const b = await plan("-D", "parallelism.default=3", "--parallelism", "2");
    assert.equal(b.spec!.vertices[1]!.parallelism, 2, "the flag wins");
    for (const [pair, re] of [
      ["bogus.key=1", /^error MalformedRequest: unknown configuration key 'bogus.key'/],
      ["parallelism.default=zero", /^error MalformedRequest: bad value 'zero' for parallelism.default: expected a whole number from 1 to 32768$/],
      ["pipeline.max-parallelism=1", /^error MalformedRequest: pipeline.max-parallelism 1 is below the parallelism 2 of vertex "sink"/],
    ] as const) {
      const r = await plan("--parallelism", "2", "-D", pair);
      assert.equal(r.code, 2, pair);
      assert.deepEqual(r.io.outLines, []);
      assert.match(r.io.errLines[0]!, re);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
