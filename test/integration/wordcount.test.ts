import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProcessCluster, type ProcessCluster } from "../helpers/process-cluster.js";
import { runEddy } from "../helpers/eddy-process.js";

/** The CONTRACT's rule, on raw bytes: A-Z lowercased, a word is a maximal run of [a-z0-9_]. */
function independentCount(bytes: Buffer): Map<string, number> {
  const counts = new Map<string, number>();
  let word: number[] = [];
  const end = () => {
    if (word.length) {
      const w = String.fromCharCode(...word);
      counts.set(w, (counts.get(w) ?? 0) + 1);
      word = [];
    }
  };
  for (const b0 of bytes) {
    const b = b0 >= 0x41 && b0 <= 0x5a ? b0 + 32 : b0;
    if ((b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x5f) word.push(b);
    else end();
  }
  end();
  return counts;
}

/** Text that exercises the rule: case, digits, underscores, punctuation, non-ASCII, CRLF, empty lines. */
function makeText(lines: number): string {
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const pieces = ["Hello", "WORLD", "world", "fo_o", "x42", "42", "Straße", "café", "\u212Aelvin", "İstanbul", "naïve", "😀", "a-b", "it's", "__", "Zz9", "e\u0301", "tab\there"];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = rnd(12);
    const ws: string[] = [];
    for (let j = 0; j < n; j++) ws.push(rnd(3) === 0 ? pieces[rnd(pieces.length)]! : `w${rnd(5000)}${rnd(4) === 0 ? "X" : ""}`);
    out.push(ws.join(rnd(5) === 0 ? ", " : " "));
  }
  return out.join(rnd(2) ? "\r\n" : "\n") + (lines % 2 ? "\n" : "");
}

function readOutput(dir: string): Map<string, number> {
  const got = new Map<string, number>();
  for (const f of readdirSync(dir)) {
    assert.match(f, /^part-\d+$/, `only committed part files in the output, found ${f}`);
    for (const line of readFileSync(join(dir, f), "utf8").split("\n")) {
      if (!line) continue;
      const m = /^(\S+) (\d+)$/.exec(line);
      assert.ok(m, `line has the form "<word> <count>": ${JSON.stringify(line)}`);
      assert.ok(!got.has(m[1]!), `word ${m[1]} appears on one line only`);
      got.set(m[1]!, Number(m[2]));
    }
  }
  return got;
}

let cluster: ProcessCluster;
let work: string;
let input: string;
let expected: Map<string, number>;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "eddy-wc-"));
  input = join(work, "input.txt");
  writeFileSync(input, makeText(60_000));
  expected = independentCount(readFileSync(input));
  cluster = await startProcessCluster({ taskExecutors: 2, slots: 2 });
});

after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

for (const parallelism of [1, 4]) {
  test(`WordCount at parallelism ${parallelism} across two TaskExecutor processes equals an independent count`, async () => {
    const output = join(work, `out-${parallelism}`);
    const r = await runEddy(["run", "examples/wordcount.ts", "--parallelism", String(parallelism), "--", "--input", input, "--output", output], {
      natsUrl: cluster.natsUrl,
      prefix: cluster.prefix,
      timeoutMs: 90_000,
    });
    assert.equal(r.code, 0, `eddy run exits 0 for FINISHED\n${r.stdout}\n${r.stderr}`);
    const id = /^Job ([0-9a-f]{32}) submitted$/m.exec(r.stdout)?.[1];
    assert.ok(id, `prints "Job <id> submitted": ${r.stdout}`);
    assert.match(r.stdout, /FINISHED/);
    const got = readOutput(output);
    assert.equal(got.size, expected.size, "number of distinct words");
    for (const [w, c] of expected) assert.equal(got.get(w), c, `count of ${w}`);
    const details = await cluster.dispatcher.ask<{ state: string; vertices: Array<{ parallelism: number; subtasks: Array<{ taskExecutor: string }> }> }>("requestJob", { jobId: id });
    assert.equal(details.state, "FINISHED");
    assert.ok(details.vertices.every((v) => v.parallelism === parallelism));
    const tes = new Set(details.vertices.flatMap((v) => v.subtasks.map((s) => s.taskExecutor)));
    assert.equal(tes.size, Math.min(parallelism, 2), "subtasks ran on as many TaskExecutors as the parallelism allows");
  });
}
