/**
 * A worker thread of the scaling bench's plain WordCount: reads its share of the input's lines
 * (`workerData`: {path, part, parts}), says "ready", and on "go" tokenizes them with Eddy's tokenizer
 * and counts the words in a Map of its own, as {@link cpuCeiling} does in one thread, then posts the
 * number of words. No records cross threads: two of these bound what two threads of this machine get
 * from this work, before any exchange.
 */
import { readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { forEachWord } from "../../src/runtime/invokables/index.js";

const { path, part, parts } = workerData as { path: string; part: number; parts: number };
const lines = readFileSync(path, "utf8").split("\n");
const from = Math.floor((lines.length * part) / parts);
const to = Math.floor((lines.length * (part + 1)) / parts);
const port = parentPort!;

port.once("message", () => {
  const counts = new Map<string, number>();
  let words = 0;
  const count = (w: string) => {
    counts.set(w, (counts.get(w) ?? 0) + 1);
    words++;
  };
  for (let i = from; i < to; i++) forEachWord(lines[i]!, count);
  port.postMessage(words);
});
port.postMessage("ready");
