import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  builtinInvokables,
  builtinRegistry,
  InvokableRegistry,
  tokenizeWords,
  readSplitLines,
  byteRange,
  shareOf,
  formatLine,
} from "../../src/runtime/invokables/index.js";
import { ErrorCode, ValidationError } from "../../src/core/errors.js";
import { createHarness, runInvokable } from "../helpers/task-harness.js";

const f = (name: string) => builtinInvokables.get(name)!;

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "eddy-inv-"));
}

test("registry lists the built-ins and explains an unknown name", () => {
  assert.deepEqual(builtinRegistry.names(), [
    "eddy.actors.dispatch",
    "eddy.actors.feedback",
    "eddy.stream.coProcess",
    "eddy.stream.collect",
    "eddy.stream.filter",
    "eddy.stream.flatMap",
    "eddy.stream.generator",
    "eddy.stream.intervalJoin",
    "eddy.stream.keyBy",
    "eddy.stream.keyedProcess",
    "eddy.stream.map",
    "eddy.stream.print",
    "eddy.stream.process",
    "eddy.stream.reduce",
    "eddy.stream.sink",
    "eddy.stream.source",
    "eddy.stream.watermarks",
    "eddy.stream.window",
    "eddy.user.operator",
    "eddy.user.sink",
    "eddy.user.source",
    "op.countPerKey",
    "op.identity",
    "op.keyedSum",
    "op.tokenize",
    "sink.discard",
    "sink.jetstream",
    "sink.textFile",
    "source.jetstream",
    "source.keyedEvents",
    "source.sequence",
    "source.textFile",
  ]);
  assert.throws(
    () => builtinRegistry.lookup("op.nope"),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.UnknownInvokable && /source\.sequence/.test(e.message),
  );
  assert.throws(() => builtinRegistry.register(f("op.identity")), /read-only/);
  const r = new InvokableRegistry(builtinRegistry);
  assert.throws(() => r.register(f("op.identity")), /already registered/);
  r.register({ ...f("op.identity"), name: "user.thing" });
  assert.equal(r.lookup("user.thing").kind, "operator");
});

test("tokenizer: A-Z lowercased, words are runs of [a-z0-9_], everything else separates", () => {
  assert.deepEqual(tokenizeWords("Hello, World! hello_world 42x"), ["hello", "world", "hello_world", "42x"]);
  assert.deepEqual(tokenizeWords(""), []);
  assert.deepEqual(tokenizeWords("   ...  "), []);
  assert.deepEqual(tokenizeWords("ABC_def-GHI9"), ["abc_def", "ghi9"]);
  // Non-ASCII letters are separators and are never case-mapped.
  assert.deepEqual(tokenizeWords("caf\u00e9 na\u00efve \u00c9T\u00c9"), ["caf", "na", "ve", "t"]);
  // U+212A KELVIN SIGN must not become "k"; U+0130 must not become "i".
  assert.deepEqual(tokenizeWords("5\u212A degrees \u212Aelvin \u0130stanbul"), ["5", "degrees", "elvin", "stanbul"]);
  assert.deepEqual(tokenizeWords("tab\there\r\nnew\u00a0line"), ["tab", "here", "new", "line"]);
  assert.deepEqual(tokenizeWords("a\u{1F600}b"), ["a", "b"]);
  assert.deepEqual(tokenizeWords("[\\]^`{|}~@"), []); // ASCII neighbours of the letter ranges
});

test("op.tokenize emits [word, 1] pairs and counts records", async () => {
  const h = await runInvokable(f("op.tokenize"), { input: ["The cat", "", "the END"], batchSize: 2 });
  assert.deepEqual(h.output, [
    ["the", 1],
    ["cat", 1],
    ["the", 1],
    ["end", 1],
  ]);
  assert.equal(h.finished, true);
  assert.equal(h.recycled, 2);
  assert.equal(h.accumulators.get("v.records-in"), 3);
  assert.equal(h.accumulators.get("v.records-out"), 4);
  await assert.rejects(runInvokable(f("op.tokenize"), { input: [{ a: 1 }] }), /expects string records/);
});

/** `[key, value]` records for the keyed sum's tests. */
const SUMMANDS = [
  ["a", 1],
  ["b", 2],
  ["a", 3],
  ["c", 0.5],
  ["b", -2],
];

test("op.keyedSum sums per key at end of input, with index settings", async () => {
  const input = SUMMANDS;
  const h = await runInvokable(f("op.keyedSum"), { input, batchSize: 2 });
  assert.deepEqual(
    new Map(h.output as Array<[string, number]>),
    new Map<string, number>([
      ["a", 4],
      ["b", 0],
      ["c", 0.5],
    ]),
  );
  assert.equal(h.finished, true);
  const h2 = await runInvokable(f("op.keyedSum"), {
    config: { keyIndex: 2, valueIndex: 0 },
    input: [
      [5, "x", 1],
      [6, "y", 1],
      [1, "z", 2],
    ],
  });
  assert.deepEqual(h2.output, [
    [1, 11],
    [2, 1],
  ]);
  await assert.rejects(runInvokable(f("op.keyedSum"), { input: [["a", "1"]] }), /must be a number/);
  await assert.rejects(runInvokable(f("op.keyedSum"), { input: ["a"] }), /must be arrays/);
  await assert.rejects(runInvokable(f("op.keyedSum"), { input: [[{ k: 1 }, 1]] }), /key/);
  assert.throws(
    () => f("op.keyedSum").validate({ keyIndex: -1 }, "s"),
    (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidJobGraph,
  );
  assert.throws(() => f("op.keyedSum").validate({ keyField: 1 }, "s"), /unknown setting config\.keyField/);
});

test("op.keyedSum: many keys come out in batches under backpressure", async () => {
  const input = Array.from({ length: 5000 }, (_, i) => [`k${i % 2500}`, 1]);
  const h = await runInvokable(f("op.keyedSum"), { input, outputCapacity: 300 });
  assert.equal(h.output.length, 2500);
  assert.ok((h.output as Array<[string, number]>).every(([, n]) => n === 2));
});

test("op.keyedSum as a combiner sums before an exchange, sending a full table and the rest at the end", async () => {
  const h = await runInvokable(f("op.keyedSum"), {
    input: [
      ["a", 1],
      ["a", 2],
      ["b", 3],
      ["c", 1],
      ["c", 1],
      ["a", 5],
    ],
    batchSize: 3,
    consumers: 2,
    config: { partial: true, maxKeys: 2 },
  });
  // Each batch of three fills the table to two keys, and it is sent and emptied.
  assert.deepEqual(h.output, [
    ["a", 3],
    ["b", 3],
    ["c", 2],
    ["a", 5],
  ]);
  const input = [...SUMMANDS.slice(0, 4), ["a", 1], SUMMANDS[4]!];
  const big = await runInvokable(f("op.keyedSum"), { input, batchSize: 2, consumers: 2, config: { partial: true } });
  assert.deepEqual(big.output, [
    ["a", 5],
    ["b", 0],
    ["c", 0.5],
  ]);
  assert.equal(big.accumulators.get("v.records-in"), 6);
  assert.equal(big.accumulators.get("v.records-out"), 3);
  // Partial sums keep the input's shape, so that the final sum reads them with the same indexes.
  const shaped = await runInvokable(f("op.keyedSum"), {
    input: [
      [5, "x", 1],
      [6, "y", 1],
    ],
    consumers: 3,
    config: { partial: true, keyIndex: 2, valueIndex: 0 },
  });
  assert.deepEqual(shaped.output, [[11, null, 1]]);
  await assert.rejects(runInvokable(f("op.keyedSum"), { input: [["a", "1"]], consumers: 2, config: { partial: true } }), /must be a number/);
  assert.throws(() => f("op.keyedSum").validate({ partial: "yes" }, "s"), /config\.partial must be true or false/);
  assert.throws(() => f("op.keyedSum").validate({ partial: true, maxKeys: 0 }, "s"), /maxKeys/);
});

test("op.keyedSum as a combiner forwards the records as they come when it is the only producer for the only consumer", async () => {
  const input = [
    ["a", 1],
    ["a", 2],
    ["b", 3],
  ];
  const h = await runInvokable(f("op.keyedSum"), { input, consumers: 1, config: { partial: true } });
  assert.deepEqual(h.output, input);
  assert.equal(h.finished, true);
  // One of two producers for one consumer: most of its records would cross, so it sums them.
  const two = await runInvokable(f("op.keyedSum"), { input, parallelism: 2, consumers: 1, config: { partial: true } });
  assert.deepEqual(two.output, [
    ["a", 3],
    ["b", 3],
  ]);
});

test("op.identity and sink.discard", async () => {
  const h = await runInvokable(f("op.identity"), { input: [1, "a", null, [2]], batchSize: 3 });
  assert.deepEqual(h.output, [1, "a", null, [2]]);
  const d = await runInvokable(f("sink.discard"), { input: Array.from({ length: 250 }, (_, i) => i) });
  assert.equal(d.accumulators.get("records"), 250);
  assert.deepEqual(d.output, []);
  assert.equal(d.finished, true);
});

test("source.sequence: contiguous shares cover the range exactly once", async () => {
  for (const [from, to, step] of [
    [1, 10, 1],
    [0, 9999, 1],
    [-5, 5, 3],
    [7, 7, 1],
    [0, 100, 7],
  ] as const) {
    const expect: number[] = [];
    for (let v = from; v <= to; v += step) expect.push(v);
    for (const p of [1, 2, 3, 7, 16]) {
      const all: number[] = [];
      for (let i = 0; i < p; i++) {
        const h = await runInvokable(f("source.sequence"), { config: { from, to, step }, subtaskIndex: i, parallelism: p, outputCapacity: 1000 });
        assert.equal(h.finished, true);
        all.push(...(h.output as number[]));
      }
      assert.deepEqual(all, expect, `from ${from} to ${to} step ${step} p ${p}`);
    }
  }
  assert.throws(() => f("source.sequence").validate({ from: 2, to: 1 }, "s"), /must not be greater/);
  assert.throws(() => f("source.sequence").validate({ from: 1.5, to: 3 }, "s"), /integer/);
  assert.throws(() => f("source.sequence").validate({ from: 1, to: 3, step: 0 }, "s"), /step/);
  assert.throws(() => f("source.sequence").validate({ to: 3 }, "s"), /config\.from is required/);
  assert.deepEqual(shareOf(10, 3, 4), { first: 8, count: 2 });
});

test("source.sequence stops when canceled", async () => {
  const h = createHarness({ config: { from: 0, to: 1e9 } });
  const inv = f("source.sequence").create({ from: 0, to: 1e9 });
  const run = inv.invoke(h.ctx);
  setTimeout(() => h.abort(new Error("canceled")), 5);
  await assert.rejects(run, /canceled/);
  assert.equal(h.finished, false);
});

const files: Record<string, string> = {
  trailingNewline: "alpha beta\ngamma\n\ndelta epsilon zeta\neta\n",
  noTrailingNewline: "one\ntwo\nthree",
  crlf: "first line\r\nsecond\r\n\r\nfourth\r\nlast without newline",
  emptyLines: "\n\n\nx\n\n",
  tiny: "ab",
  single: "x\n",
  onlyNewline: "\n",
  empty: "",
  unicode: "\ufeffh\u00e9llo w\u00f6rld\n\u212Aelvin \u{1F600}\nend",
  longLines: `${"a".repeat(50)}\n${"b".repeat(3)}\n${"c".repeat(70)}\nd`,
};

function expectedLines(text: string): string[] {
  const t = text.startsWith("\ufeff") ? text.slice(1) : text;
  if (t === "") return [];
  const parts = t.split("\n");
  if (parts[parts.length - 1] === "") parts.pop();
  return parts.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
}

test("readSplitLines: every line exactly once for parallelism 1..7 and tiny chunk sizes", async () => {
  const dir = await tempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      const path = join(dir, name);
      await writeFile(path, text);
      const size = Buffer.byteLength(text);
      for (let p = 1; p <= 7; p++) {
        for (const chunkSize of [16, 17, 64, 1 << 20]) {
          const got: string[] = [];
          const fh = await open(path, "r");
          try {
            for (let i = 0; i < p; i++) {
              const { start, end } = byteRange(size, i, p);
              await readSplitLines(fh, size, start, end, (lines) => void got.push(...lines), { chunkSize, batchLines: 3 });
            }
          } finally {
            await fh.close();
          }
          assert.deepEqual(got, expectedLines(text), `${name} p=${p} chunk=${chunkSize}`);
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("readSplitLines: a batch's offset is where the rest of the range starts, for any chunk size and encoding", async () => {
  const dir = await tempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      const path = join(dir, name);
      await writeFile(path, text);
      const size = Buffer.byteLength(text);
      const all = expectedLines(text);
      for (const chunkSize of [16, 17, 64, 1 << 20]) {
        const fh = await open(path, "r");
        try {
          const cuts: Array<{ seen: number; next: number }> = [];
          let seen = 0;
          await readSplitLines(
            fh,
            size,
            0,
            size,
            (lines, next) => {
              seen += lines.length;
              cuts.push({ seen, next });
            },
            { chunkSize, batchLines: 2 },
          );
          for (const { seen: n, next } of cuts) {
            const rest: string[] = [];
            await readSplitLines(fh, size, next, size, (lines) => void rest.push(...lines), { chunkSize });
            assert.deepEqual(rest, all.slice(n), `${name} chunk=${chunkSize}: resuming at ${next} after ${n} lines`);
          }
        } finally {
          await fh.close();
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("source.textFile: a restore reads on from each subtask's offset, at another parallelism too", async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, "lines.txt");
    const lines = Array.from({ length: 40_000 }, (_, i) => `line ${i} ${"\u00e9".repeat(i % 7)}`);
    await writeFile(path, `${lines.join("\n")}\n`);
    // A first run at parallelism 3: each subtask is snapshotted at its first yield (a checkpoint's
    // place), after 4 batches; what it emitted by then is "before", the rest is read again after the restore.
    const before: unknown[] = [];
    const state: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const h = createHarness({ config: { path }, subtaskIndex: i, parallelism: 3 });
      const inv = f("source.textFile").create({ path });
      await inv.restore!(h.ctx);
      let taken = false;
      (h.ctx as { yield: () => Promise<void> }).yield = async () => {
        if (!taken) {
          taken = true;
          inv.snapshotState!(h.ctx, 1);
          before.push(...h.output);
          state.push(...h.ctx.operatorState.getUnionListState("ranges").get());
        }
      };
      await inv.invoke(h.ctx);
      assert.ok(taken && before.length > 0, "snapshotted mid-way");
    }
    assert.ok(before.length < lines.length);
    for (const p of [2, 3, 5]) {
      const after: unknown[] = [];
      for (let i = 0; i < p; i++) {
        const h = createHarness({ config: { path }, subtaskIndex: i, parallelism: p });
        h.ctx.operatorState.getUnionListState("ranges").update(state);
        const inv = f("source.textFile").create({ path });
        await inv.restore!(h.ctx);
        await inv.invoke(h.ctx);
        after.push(...h.output);
      }
      assert.deepEqual([...before, ...after].sort(), [...lines].sort(), `restored at parallelism ${p}`);
    }
    // A subtask that read everything keeps an empty range: its restore reads nothing again.
    const h = createHarness({ config: { path } });
    const inv = f("source.textFile").create({ path });
    await inv.restore!(h.ctx);
    await inv.invoke(h.ctx);
    inv.snapshotState!(h.ctx, 2);
    const done = createHarness({ config: { path } });
    done.ctx.operatorState.getUnionListState("ranges").update(h.ctx.operatorState.getUnionListState("ranges").get());
    const again = f("source.textFile").create({ path });
    await again.restore!(done.ctx);
    await again.invoke(done.ctx);
    assert.deepEqual(done.output, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("source.textFile: subtasks together emit every line once (file smaller than parallelism too)", async () => {
  const dir = await tempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      const path = join(dir, name);
      await writeFile(path, text);
      for (const p of [1, 2, 3, 5, 7]) {
        const got: unknown[] = [];
        for (let i = 0; i < p; i++) {
          const h = await runInvokable(f("source.textFile"), { config: { path }, subtaskIndex: i, parallelism: p });
          assert.equal(h.finished, true);
          got.push(...h.output);
        }
        assert.deepEqual(got, expectedLines(text), `${name} p=${p}`);
      }
    }
    // A bigger random file with many chunks' worth of lines.
    const lines: string[] = [];
    for (let i = 0; i < 40000; i++) lines.push(`${i} ${"w".repeat(i % 97)}${i % 5 === 0 ? "\r" : ""}`);
    const big = join(dir, "big");
    await writeFile(big, `${lines.join("\n")}\n`);
    const got: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const h = await runInvokable(f("source.textFile"), { config: { path: big }, subtaskIndex: i, parallelism: 3, outputCapacity: 500 });
      got.push(...h.output);
      assert.ok(h.backpressureWaits > 0);
    }
    assert.deepEqual(
      got,
      lines.map((l) => l.replace(/\r$/, "")),
    );
    await assert.rejects(runInvokable(f("source.textFile"), { config: { path: join(dir, "missing") } }), /ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("sink.textFile writes part-<i> lines and renames on success", async () => {
  const dir = await tempDir();
  const out = join(dir, "out", "nested");
  try {
    const input = ["plain", ["word", 3], 42, { a: 1 }, null, [1, [2, 3], "x y"], true];
    const h = await runInvokable(f("sink.textFile"), { config: { path: out }, input, subtaskIndex: 1, parallelism: 2, batchSize: 3 });
    assert.equal(h.accumulators.get("records"), input.length);
    assert.deepEqual(await readdir(out), ["part-1"]);
    assert.equal(await readFile(join(out, "part-1"), "utf8"), 'plain\nword 3\n42\n{"a":1}\nnull\n1 [2,3] x y\ntrue\n');
    assert.equal(formatLine(["a", "b"]), "a b");
    // A rerun at lower parallelism removes part files of indexes it does not have.
    await runInvokable(f("sink.textFile"), { config: { path: out }, input: ["z"], subtaskIndex: 0, parallelism: 1 });
    assert.deepEqual(await readdir(out), ["part-0"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("sink.textFile: a failed or canceled attempt leaves no file behind", async () => {
  const dir = await tempDir();
  try {
    const h = createHarness({ config: { path: dir }, input: ["a", "b", "c"], batchSize: 1, failAfterBatches: 2 });
    await assert.rejects(f("sink.textFile").create({ path: dir }).invoke(h.ctx), /input failed/);
    assert.deepEqual(await readdir(dir), []);
    assert.equal(h.finished, false);
    const c = createHarness({ config: { path: dir }, input: ["a", "b", "c"], batchSize: 1 });
    c.abort(new Error("canceled"));
    await assert.rejects(f("sink.textFile").create({ path: dir }).invoke(c.ctx), /canceled/);
    assert.deepEqual(await readdir(dir), []);
    // An older attempt's leftover in-progress file is removed by the next attempt.
    await writeFile(join(dir, ".part-0.0.inprogress"), "stale");
    await runInvokable(f("sink.textFile"), { config: { path: dir }, input: ["ok"], attemptNumber: 1 });
    assert.deepEqual(await readdir(dir), ["part-0"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("every built-in checks its settings", () => {
  for (const name of ["op.tokenize", "op.identity", "sink.discard"]) {
    assert.throws(
      () => f(name).validate({ x: 1 }, "v"),
      (e: unknown) => e instanceof ValidationError && e.code === ErrorCode.InvalidJobGraph,
    );
    f(name).validate({}, "v");
  }
  for (const name of ["source.textFile", "sink.textFile"]) {
    assert.throws(() => f(name).validate({}, "v"), /config\.path/);
    assert.throws(() => f(name).validate({ path: "" }, "v"), /config\.path/);
    assert.throws(() => f(name).validate({ path: "/x", mode: 1 }, "v"), /unknown setting/);
    f(name).validate({ path: "/x" }, "v");
  }
});
