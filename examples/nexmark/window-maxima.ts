/**
 * The second step of a "top per window" query (Nexmark q5 and q7): candidates computed per key and
 * window upstream, then per window the candidates with the highest score, ties all. Flink's SQL for
 * both joins the per-key results with their per-window maximum; as a DataStream job it is this keyed
 * process function keyed by window end: it keeps the window's highest score and the lines having it,
 * and emits them when the watermark passes the window's end (every upstream window fired by then).
 */
import type { DataStream, KeyedProcessFunction } from "eddy";

/** Lines of one key in one window, all with the same score. */
export interface Candidates {
  start: number;
  end: number;
  score: number;
  lines: string[];
}

/** The window's best candidates so far: [score, start, lines]. */
type Best = [number, number, string[]];

const maxima: KeyedProcessFunction<number, Candidates, string> = {
  processElement(c, ctx) {
    const best = ctx.state.getValueState<Best>("best");
    const b = best.value();
    if (b === undefined) {
      best.update([c.score, c.start, c.lines]);
      ctx.timerService().registerEventTimeTimer(c.end - 1);
    } else if (c.score > b[0]) best.update([c.score, c.start, c.lines]);
    else if (c.score === b[0]) best.update([b[0], b[1], b[2].concat(c.lines)]);
  },
  onTimer(_ts, ctx, out) {
    const best = ctx.state.getValueState<Best>("best");
    const [, start, lines] = best.value()!;
    const prefix = `${start}\t${ctx.getCurrentKey()}\t`;
    for (const l of lines) out.collect(prefix + l);
    best.clear();
  },
};

/** Per window, `windowStart windowEnd line` for every line of the highest-scoring candidates. */
export function windowMaxima(candidates: DataStream<Candidates>, uid: string): DataStream<string> {
  return candidates
    .keyBy((c) => c.end)
    .process(maxima)
    .uid(uid);
}
