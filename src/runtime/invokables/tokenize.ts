/**
 * `op.tokenize`: splits lines into `[word, 1]` pairs by the WordCount rule: ASCII letters A-Z are
 * lowercased, every other character is left as is, and a word is a maximal run of `[a-z0-9_]`.
 * Only A-Z are case-mapped (never `toLowerCase()` on arbitrary text: it maps, e.g., U+212A KELVIN SIGN
 * to "k"); any non-ASCII character is therefore a separator.
 */
import type { Invokable, InvokableFactory, TaskContext } from "../api.js";
import { describeRecord, forEachInputBatch, recordCounters } from "../invokable-common.js";
import { defineInvokable } from "../define-invokable.js";

const NAME = "op.tokenize";

/** Calls `emit` for every word of `s`, in order. */
export function forEachWord(s: string, emit: (word: string) => void): void {
  const n = s.length;
  let start = -1;
  let upper = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95) {
      if (start < 0) start = i;
    } else if (c >= 65 && c <= 90) {
      if (start < 0) start = i;
      upper = true;
    } else if (start >= 0) {
      // The slice holds only [A-Za-z0-9_], so toLowerCase() is exactly the A-Z mapping here.
      const w = s.slice(start, i);
      emit(upper ? w.toLowerCase() : w);
      start = -1;
      upper = false;
    }
  }
  if (start >= 0) {
    const w = s.slice(start);
    emit(upper ? w.toLowerCase() : w);
  }
}

/** The words of `s` by the WordCount rule. */
export function tokenizeWords(s: string): string[] {
  const words: string[] = [];
  forEachWord(s, (w) => words.push(w));
  return words;
}

class Tokenize implements Invokable {
  async invoke(ctx: TaskContext): Promise<void> {
    const out = ctx.output;
    const counters = recordCounters(ctx);
    let emitted = 0;
    const emit = (w: string): void => {
      out.emit([w, 1]);
      emitted++;
    };
    await forEachInputBatch(ctx, (records) => {
      for (let i = 0; i < records.length; i++) {
        const r = records[i];
        if (typeof r === "string") forEachWord(r, emit);
        else if (typeof r === "number" || typeof r === "bigint" || typeof r === "boolean") forEachWord(String(r), emit);
        else throw new TypeError(`${NAME} (vertex ${ctx.tdd.vertexId}) expects string records, got ${describeRecord(r)}`);
      }
      counters.in.add(records.length);
      counters.out.add(emitted);
      emitted = 0;
    });
    await out.finish();
  }
}

/** `op.tokenize` (no settings): string records in, `[word, 1]` out. */
export const tokenizeOperator: InvokableFactory = defineInvokable({
  name: NAME,
  description: "Splits string records into [word, 1] pairs: A-Z lowercased, a word is a maximal run of [a-z0-9_]. No settings.",
  kind: "operator",
  keys: [],
  create: () => new Tokenize(),
});
