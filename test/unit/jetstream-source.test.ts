import { test } from "node:test";
import assert from "node:assert/strict";
import {
  assignSplits,
  builtinRegistry,
  initialSplits,
  isSplitDone,
  partitionFilters,
  payloadDecoder,
  refineSplits,
  type JetStreamSplit,
} from "../../src/runtime/invokables/index.js";
import { DefaultOperatorStateBackend } from "../../src/state/index.js";
import { packData } from "../../src/codec/codec.js";
import { ErrorCode } from "../../src/core/errors.js";
import { withCode } from "../helpers/error-code.js";
import { StreamExecutionEnvironment, TumblingEventTimeWindows, WatermarkStrategy } from "../../src/sdk/index.js";

/** Every sequence the splits cover (from `next` to `end`), sorted; throws on one covered twice. */
function covered(splits: readonly JetStreamSplit[]): number[] {
  const seqs: number[] = [];
  for (const s of splits) for (let q = s.next; q <= s.end!; q++) seqs.push(q);
  seqs.sort((a, b) => a - b);
  for (let k = 1; k < seqs.length; k++) assert.notEqual(seqs[k], seqs[k - 1], `sequence ${seqs[k]} is in two splits`);
  return seqs;
}

const seqRange = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);
const assignAll = (splits: readonly JetStreamSplit[], p: number) => Array.from({ length: p }, (_, i) => assignSplits(splits, p, i));

test("the first start splits by subject partition, by sequence ranges up to endSeq, or reads the whole stream as one split", () => {
  const parts = initialSplits({ startSeq: 5, partitions: ["s.0", "s.1", "s.2"], parallelism: 2 });
  assert.deepEqual(parts, [
    { id: "p0", filter: "s.0", next: 5 },
    { id: "p1", filter: "s.1", next: 5 },
    { id: "p2", filter: "s.2", next: 5 },
  ]);
  const ranges = initialSplits({ startSeq: 11, endSeq: 20, partitions: [], parallelism: 3, filterSubject: "a.>" });
  assert.equal(ranges.length, 3);
  assert.ok(ranges.every((r) => r.filter === "a.>"));
  assert.deepEqual(covered(ranges), seqRange(11, 20));
  assert.deepEqual(initialSplits({ startSeq: 1, partitions: [], parallelism: 4 }), [{ id: "all", next: 1 }]);
  // The source's own filter wins over the stream's partitions; fewer sequences than subtasks: one range each.
  assert.deepEqual(
    initialSplits({ startSeq: 7, endSeq: 8, partitions: ["s.0", "s.1"], filterSubject: "s.1", parallelism: 4 }).map((s) => [s.next, s.end]),
    [
      [7, 7],
      [8, 8],
    ],
  );
});

test("every split goes to exactly one subtask, the same whichever subtask computes the assignment", () => {
  const splits = initialSplits({ startSeq: 1, partitions: Array.from({ length: 7 }, (_, k) => `s.${k}`), parallelism: 3 });
  const shuffled = [...splits].reverse();
  for (const p of [1, 2, 3, 7, 9]) {
    const a = assignAll(splits, p);
    const b = assignAll(shuffled, p);
    assert.deepEqual(a, b, `p=${p}: the order of the restored entries does not matter`);
    assert.deepEqual(
      a
        .flat()
        .map((s) => s.id)
        .sort(),
      splits.map((s) => s.id).sort(),
      `p=${p}: each split once`,
    );
    const sizes = a.map((x) => x.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `p=${p}: balanced (${sizes})`);
  }
});

test("a restore at a higher parallelism cuts the bounded splits with the most left so every subtask reads", () => {
  const splits: JetStreamSplit[] = [
    { id: "r0", next: 51, end: 100 },
    { id: "r1", next: 101, end: 200 },
  ];
  const refined = refineSplits(splits, 4);
  assert.equal(refined.filter((s) => !isSplitDone(s)).length, 4);
  assert.deepEqual(covered(refined), seqRange(51, 200));
  assert.deepEqual(refineSplits(refined, 4), refined, "refining is stable");
  const a = assignAll(splits, 4);
  assert.ok(a.every((x) => x.length === 1));
  // An unbounded split cannot be cut; a finished one is kept (its position stays in state) and not counted.
  const open = refineSplits(
    [
      { id: "all", next: 9 },
      { id: "done", next: 11, end: 10 },
    ],
    3,
  );
  assert.deepEqual(
    open.map((s) => s.id),
    ["all", "done"],
  );
});

test("split positions survive a snapshot and union redistribution to 2, 3 and 1 subtasks: each position restored once", () => {
  // Three old subtasks each snapshot their splits (positions advanced) into union list state.
  const all = initialSplits({ startSeq: 1, endSeq: 90, partitions: [], parallelism: 3 });
  const old = [0, 1, 2].map((i) => {
    const b = new DefaultOperatorStateBackend();
    const mine = assignSplits(all, 3, i).map((s) => ({ ...s, next: s.next + 10, ts: 1000 + i }));
    b.getUnionListState<JetStreamSplit>("splits").update(mine);
    return b.snapshot();
  });
  for (const p of [2, 3, 1, 5]) {
    const restored = Array.from({ length: p }, (_, i) => {
      const entries = DefaultOperatorStateBackend.restore(old, i, p).getUnionListState<JetStreamSplit>("splits").get();
      assert.equal(entries.length, 3, "union state: every subtask sees every split");
      return assignSplits(entries, p, i);
    });
    const flat = restored.flat();
    // Positions moved by 10 in each range: sequences 1..10, 31..40, 61..70 were read before.
    assert.deepEqual(covered(flat), [...seqRange(11, 30), ...seqRange(41, 60), ...seqRange(71, 90)], `p=${p}`);
    assert.ok(
      flat.every((s) => s.ts !== undefined),
      "the watermark's timestamp travels with the split",
    );
  }
});

test("partition filters come from a subject transform's partition token", () => {
  assert.deepEqual(partitionFilters(["orders.{{partition(3,1)}}.{{wildcard(1)}}"]), ["orders.0.*", "orders.1.*", "orders.2.*"]);
  assert.deepEqual(partitionFilters(["{{ Partition( 2 ) }}.x"]), ["0.x", "1.x"]);
  assert.deepEqual(partitionFilters(["orders.{{wildcard(1)}}"]), []);
});

test("bad config of source.jetstream is refused with InvalidJobGraph naming the setting", () => {
  const f = builtinRegistry.lookup("source.jetstream");
  const refused = (config: Record<string, unknown>, message: RegExp) =>
    assert.throws(() => f.validate(config, "in"), withCode(ErrorCode.InvalidJobGraph, message));
  refused({}, /config\.stream is required/);
  refused({ stream: "" }, /config\.stream must be a non-empty string/);
  refused({ stream: "a b" }, /no stream name/);
  refused({ stream: "S", format: "xml" }, /config\.format must be one of json, msgpack, string, bytes, got "xml"/);
  refused({ stream: "S", startSeq: 0 }, /config\.startSeq must be an integer in \[1,/);
  refused({ stream: "S", startSeq: 5, endSeq: 4 }, /config\.endSeq \(4\) must not be before config\.startSeq \(5\)/);
  refused({ stream: "S", endSeq: 1.5 }, /config\.endSeq must be an integer/);
  refused({ stream: "S", bounded: "yes" }, /config\.bounded must be true or false/);
  refused({ stream: "S", bounded: false, endSeq: 9 }, /bounded is false but config\.endSeq/);
  refused({ stream: "S", filterSubject: "a.>.b" }, /is no subject filter/);
  refused({ stream: "S", filterSubject: "a..b" }, /is no subject filter/);
  refused({ stream: "S", subject: "x" }, /unknown setting config\.subject; allowed: stream, filterSubject, format, startSeq, endSeq, bounded/);
  for (const ok of [{ stream: "S" }, { stream: "S", filterSubject: "a.*.>", format: "bytes", startSeq: 3, endSeq: 3 }, { stream: "S", bounded: true }])
    f.validate(ok, "in");
});

test("payloads decode as json, msgpack, string or bytes", () => {
  const enc = new TextEncoder();
  assert.deepEqual(payloadDecoder("json")(enc.encode('{"a":[1,"x"]}')), { a: [1, "x"] });
  assert.deepEqual(payloadDecoder("msgpack")(packData({ a: 1 })), { a: 1 });
  assert.equal(payloadDecoder("string")(enc.encode("héllo")), "héllo");
  const raw = new Uint8Array([1, 2, 3]);
  assert.equal(payloadDecoder("bytes")(raw), raw, "bytes: the payload itself, not a copy");
  assert.throws(() => payloadDecoder("json")(enc.encode("{")), SyntaxError);
});

test("env.fromJetStream writes a source.jetstream vertex with the given options, and a timestamp assigner after it", () => {
  const env = new StreamExecutionEnvironment("js");
  env
    .fromJetStream<{ t: number }>({
      stream: "S",
      endSeq: 9,
      format: "json",
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness<{ t: number }>(5).withTimestampAssigner((e) => e.t),
    })
    .map((e) => e.t)
    .print();
  const spec = env.build();
  const src = spec.vertices.find((v) => v.invokable === "source.jetstream")!;
  assert.deepEqual(src.config, { stream: "S", format: "json", endSeq: 9 });
  assert.ok(spec.vertices.some((v) => v.invokable === "eddy.stream.watermarks"));
  builtinRegistry.lookup("source.jetstream").validate(src.config ?? {}, src.id);
});

test("the JetStream source example of docs/writing-jobs.md builds: source, watermarks, keyBy, window, JetStream sink", () => {
  type Order = { customer: string; ts: number; amount: number };
  const env = new StreamExecutionEnvironment("Orders", { parallelism: 4, checkpointing: { intervalMs: 1000 } });
  env
    .fromJetStream<Order>({ stream: "ORDERS", watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Order>(2000).withTimestampAssigner((o) => o.ts) })
    .keyBy((o) => o.customer)
    .window(TumblingEventTimeWindows.of(60_000))
    .reduce((a, b) => ({ customer: a.customer, ts: Math.max(a.ts, b.ts), amount: a.amount + b.amount }))
    .addSink("sink.jetstream", { subject: "orders.per-minute", stream: "ORDER_TOTALS" });
  const invokables = env.build().vertices.map((v) => v.invokable);
  for (const name of ["source.jetstream", "eddy.stream.watermarks", "eddy.stream.window", "sink.jetstream"])
    assert.ok(invokables.includes(name), `${name} in ${invokables}`);
});
