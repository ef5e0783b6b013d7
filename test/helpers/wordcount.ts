/** WordCount test material: tricky text, an independent count of it, and the reader of the job's output. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** WordCount's rule (docs/writing-jobs.md), on raw bytes: A-Z lowercased, a word is a maximal run of [a-z0-9_]. */
export function independentCount(bytes: Buffer): Map<string, number> {
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
export function makeText(lines: number): string {
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const pieces = [
    "Hello",
    "WORLD",
    "world",
    "fo_o",
    "x42",
    "42",
    "Straße",
    "café",
    "\u212Aelvin",
    "İstanbul",
    "naïve",
    "😀",
    "a-b",
    "it's",
    "__",
    "Zz9",
    "e\u0301",
    "tab\there",
  ];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = rnd(12);
    const ws: string[] = [];
    for (let j = 0; j < n; j++) ws.push(rnd(3) === 0 ? pieces[rnd(pieces.length)]! : `w${rnd(5000)}${rnd(4) === 0 ? "X" : ""}`);
    out.push(ws.join(rnd(5) === 0 ? ", " : " "));
  }
  return out.join(rnd(2) ? "\r\n" : "\n") + (lines % 2 ? "\n" : "");
}

/** Reads a WordCount output directory: only committed `part-N` files, one `<word> <count>` line per word. */
export function readCounts(dir: string): Map<string, number> {
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

/** Asserts that `got` equals `expected`, word by word. */
export function assertCounts(got: Map<string, number>, expected: Map<string, number>): void {
  assert.equal(got.size, expected.size, "number of distinct words");
  for (const [w, c] of expected) assert.equal(got.get(w), c, `count of ${w}`);
}
