/**
 * examples/windowed-events.ts as one plain loop, no runtime: the same clicks, watermarks every 100
 * clicks (max time - 500 - 1), 1 s tumbling windows per user that fire when the watermark passes their
 * end, fire again for each late click within 2 s of lateness, and later clicks set aside. The tests'
 * independent reference and the benchmark's baseline.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ALLOWED_LATENESS_MS, click, OUT_OF_ORDERNESS_MS, WATERMARK_EVERY, WINDOW_MS } from "../../examples/windowed-events.js";

/**
 * Writes the loop's lines as the example's two files in `dir` (windows.txt, late.txt: one line each,
 * each line ended by a newline, as the job's collect sinks write them).
 */
export function writeWindowedEventsFiles(dir: string, lines: { windows: readonly string[]; late: readonly string[] }): void {
  mkdirSync(dir, { recursive: true });
  const text = (ls: readonly string[]) => (ls.length ? `${ls.join("\n")}\n` : "");
  writeFileSync(join(dir, "windows.txt"), text(lines.windows));
  writeFileSync(join(dir, "late.txt"), text(lines.late));
}

interface Win {
  user: string;
  start: number;
  clicks: number;
  amount: number;
}

/** A binary min-heap of numbers. */
class MinHeap {
  private readonly a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): number | undefined {
    return this.a[0];
  }
  push(v: number): void {
    const a = this.a;
    let i = a.push(v) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= v) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = v;
  }
  pop(): number | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1]! < a[l]! ? l + 1 : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/** The example's two files' lines (sorted), computed in one loop; `lines: false` skips building them (counts only). */
export function windowedEventsBareLoop(
  events: number,
  lateEvery: number,
  lines = true,
): { windows: string[]; late: string[]; firings: number; lateCount: number } {
  const open = new Map<string, Win>(); // user|start -> window
  const byEnd = new Map<number, string[]>(); // window end -> ids
  const fireAt = new MinHeap(); // window ends whose fire is pending
  const cleanAt = new MinHeap(); // window ends whose cleanup is pending
  const fired = new Set<number>();
  const windows: string[] = [];
  const late: string[] = [];
  let firings = 0;
  let lateCount = 0;
  let maxTs = -Infinity;
  let wm = -Infinity;
  const emit = (w: Win) => {
    firings++;
    if (lines) windows.push(`${w.user} ${w.start} ${w.start + WINDOW_MS} ${w.clicks} ${w.amount}`);
  };
  const advance = (to: number) => {
    if (to <= wm) return;
    wm = to;
    for (let e = fireAt.peek(); e !== undefined && e - 1 <= wm; e = fireAt.peek()) {
      fireAt.pop();
      fired.add(e);
      for (const id of byEnd.get(e) ?? []) emit(open.get(id)!);
    }
    for (let e = cleanAt.peek(); e !== undefined && e - 1 + ALLOWED_LATENESS_MS <= wm; e = cleanAt.peek()) {
      cleanAt.pop();
      for (const id of byEnd.get(e) ?? []) open.delete(id);
      byEnd.delete(e);
      fired.delete(e);
    }
  };
  for (let i = 0; i < events; i++) {
    const c = click(i, lateEvery);
    if (c.ts > maxTs) maxTs = c.ts;
    const start = c.ts - (((c.ts % WINDOW_MS) + WINDOW_MS) % WINDOW_MS);
    const end = start + WINDOW_MS;
    if (end - 1 + ALLOWED_LATENESS_MS <= wm) {
      lateCount++;
      if (lines) late.push(`${c.user} ${c.ts} ${c.amount}`);
    } else {
      const id = `${c.user}|${start}`;
      let w = open.get(id);
      if (!w) {
        w = { user: c.user, start, clicks: 0, amount: 0 };
        open.set(id, w);
        let ids = byEnd.get(end);
        if (!ids) {
          byEnd.set(end, (ids = []));
          if (end - 1 > wm) fireAt.push(end);
          else fired.add(end);
          cleanAt.push(end);
        }
        ids.push(id);
      }
      w.clicks++;
      w.amount += c.amount;
      if (end - 1 <= wm) emit(w);
    }
    if ((i + 1) % WATERMARK_EVERY === 0) advance(maxTs - OUT_OF_ORDERNESS_MS - 1);
  }
  // End of input: the final watermark fires every window not fired yet.
  for (let e = fireAt.pop(); e !== undefined; e = fireAt.pop()) for (const id of byEnd.get(e) ?? []) emit(open.get(id)!);
  return { windows: windows.sort(), late: late.sort(), firings, lateCount };
}
